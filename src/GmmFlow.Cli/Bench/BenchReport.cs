using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace GmmFlow.Cli.Bench;

/// <summary>The machine a run was measured on: what BENCHMARKS.md needs to say next to every number.</summary>
internal sealed record BenchMachine(string Cpu, int Cores, int SimdWidthBits, string Lapack, string Highs, string Os,
    string Runtime, bool NativeAot, string LoadAverageAtStart)
{
    public static BenchMachine Describe()
    {
        var info = RuntimeInfo.Load();
        return new BenchMachine(CpuModel(), info.Cores, info.SimdWidthBits, $"{info.LapackProvider} ({info.LapackVersion})",
            info.HighsVersion, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            !RuntimeFeature.IsDynamicCodeSupported, LoadAverage());
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "n/a".</summary>
    public static string LoadAverage()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    private static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}

/// <summary>A whole `gmmflow bench` run: the machine, the mode, every case's record; written as JSON or a text table.</summary>
internal sealed record BenchReport(BenchMachine Machine, bool Quick, DateTimeOffset Started, string LoadAverageAtEnd,
    IReadOnlyList<BenchRecord> Records)
{
    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("tool", "gmmflow bench");
        w.WriteString("started", Started.ToString("O", CultureInfo.InvariantCulture));
        w.WriteBoolean("quick", Quick);
        w.WriteStartObject("machine");
        w.WriteString("cpu", Machine.Cpu);
        w.WriteNumber("cores", Machine.Cores);
        w.WriteNumber("simdWidthBits", Machine.SimdWidthBits);
        w.WriteString("lapack", Machine.Lapack);
        w.WriteString("highs", Machine.Highs);
        w.WriteString("os", Machine.Os);
        w.WriteString("runtime", Machine.Runtime);
        w.WriteBoolean("nativeAot", Machine.NativeAot);
        w.WriteString("loadAverageAtStart", Machine.LoadAverageAtStart);
        w.WriteString("loadAverageAtEnd", LoadAverageAtEnd);
        w.WriteEndObject();
        w.WriteStartArray("cases");
        foreach (var r in Records)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("group", r.Group);
            w.WriteStartObject("parameters");
            foreach (var p in r.Parameters)
            {
                if (p.Text is not null)
                {
                    w.WriteString(p.Key, p.Text);
                }
                else
                {
                    w.WriteNumber(p.Key, p.Number);
                }
            }
            w.WriteEndObject();
            w.WriteNumber("medianSeconds", r.Timing.MedianSeconds);
            w.WriteNumber("minSeconds", r.Timing.MinSeconds);
            w.WriteNumber("cpuSecondsPerOp", r.Timing.CpuSecondsPerOp);
            w.WriteNumber("repeats", r.Timing.Repeats);
            w.WriteNumber("opsPerRepeat", r.Timing.OpsPerBatch);
            w.WriteNumber("allocatedBytesPerOp", r.Timing.AllocatedBytesPerOp);
            w.WriteNumber("throughput", r.Throughput);
            w.WriteString("throughputUnit", r.ThroughputUnit);
            w.WriteStartObject("extra");
            foreach (var (key, value) in r.Extra)
            {
                if (double.IsFinite(value))
                {
                    w.WriteNumber(key, value);
                }
                else
                {
                    w.WriteString(key, value.ToString(CultureInfo.InvariantCulture));
                }
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        WriteJson(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public void WriteText(TextWriter output)
    {
        var m = Machine;
        output.WriteLine($"gmmflow bench{(Quick ? " --quick (indicative numbers only)" : "")}: {m.Cpu}, {m.Cores} cores, {m.SimdWidthBits}-bit SIMD, " +
                         $"LAPACK {m.Lapack}, HiGHS {m.Highs}, {m.Runtime}{(m.NativeAot ? " (Native AOT)" : "")}");
        output.WriteLine($"load average {m.LoadAverageAtStart} at start, {LoadAverageAtEnd} at end; times are medians of repeats after warm-up");
        output.WriteLine();
        output.WriteLine($"{"case",-30} {"median/op",12} {"CPU/op",12} {"throughput",20} {"alloc/op",12}");
        foreach (var r in Records)
        {
            string alloc = r.Timing.AllocatedBytesPerOp < 0.5 ? "0 B" : string.Create(CultureInfo.InvariantCulture, $"{r.Timing.AllocatedBytesPerOp:F0} B");
            output.WriteLine($"{r.Name,-30} {BenchRecord.FormatSeconds(r.Timing.MedianSeconds),12} {BenchRecord.FormatSeconds(r.Timing.CpuSecondsPerOp),12} " +
                             $"{BenchRecord.FormatRate(r.Throughput) + r.ThroughputUnit,20} {alloc,12}");
        }
    }
}
