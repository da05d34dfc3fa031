using GmmFlow.Simd;

namespace GmmFlow.Tests.Simd;

public class ParallelRangeTests
{
    private struct CountBody : IRangeBody
    {
        public int[] Hits;

        public readonly void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    private struct ThrowBody : IRangeBody
    {
        public int Bad;

        public readonly void Execute(int start, int end)
        {
            if (Bad >= start && Bad < end)
            {
                throw new InvalidOperationException($"index {Bad}");
            }
        }
    }

    [Fact]
    public void Every_index_runs_exactly_once_over_many_regions()
    {
        var rng = new Random(1);
        for (int round = 0; round < 2000; round++)
        {
            int count = rng.Next(0, 500);
            var body = new CountBody { Hits = new int[count] };
            ParallelRange.For(count, rng.Next(1, 40), body);
            Assert.All(body.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void A_failing_chunk_rethrows_on_the_caller_and_the_driver_stays_usable()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ParallelRange.For(10_000, 7, new ThrowBody { Bad = 6_543 }));
        Assert.Equal("index 6543", e.Message);
        var body = new CountBody { Hits = new int[1000] };
        ParallelRange.For(1000, 3, body);
        Assert.All(body.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public async Task Concurrent_callers_fall_back_to_serial_and_stay_correct()
    {
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int k = 0; k < 200; k++)
            {
                var body = new CountBody { Hits = new int[300] };
                ParallelRange.For(300, 5, body);
                Assert.All(body.Hits, h => Assert.Equal(1, h));
            }
        }, TestContext.Current.CancellationToken)).ToArray();
        await Task.WhenAll(tasks);
    }
}
