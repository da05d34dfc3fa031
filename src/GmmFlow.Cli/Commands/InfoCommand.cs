using System.CommandLine;
using System.Text.Json;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow info`: which LAPACK and HiGHS were loaded, the SIMD width in use, the core count.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var command = new Command("info", "Show the native libraries GmmFlow loaded (LAPACK provider and version, HiGHS version), the SIMD width and core count.\n\nExamples:\n  gmmflow info\n  GMMFLOW_LAPACK=system gmmflow info --json")
        {
            json,
        };
        command.SetAction(parse =>
        {
            var info = RuntimeInfo.Load();
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                using var stream = new MemoryStream();
                using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("lapackProvider", info.LapackProvider.ToString());
                    w.WriteString("lapackVersion", info.LapackVersion);
                    w.WriteStartArray("lapackProvidersAvailable");
                    foreach (string p in info.LapackProvidersAvailable)
                    {
                        w.WriteStringValue(p);
                    }
                    w.WriteEndArray();
                    w.WriteString("highsVersion", info.HighsVersion);
                    w.WriteString("highsPath", info.HighsPath);
                    w.WriteBoolean("highsSelfCheckPassed", info.HighsSelfCheckPassed);
                    w.WriteNumber("simdWidthBits", info.SimdWidthBits);
                    w.WriteNumber("cores", info.Cores);
                    w.WriteEndObject();
                }
                output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            }
            else
            {
                output.WriteLine($"LAPACK provider : {info.LapackProvider} ({info.LapackVersion})");
                output.WriteLine($"LAPACK available: {string.Join("; ", info.LapackProvidersAvailable)}");
                output.WriteLine($"HiGHS           : {info.HighsVersion} ({info.HighsPath})");
                output.WriteLine($"HiGHS LP check  : {(info.HighsSelfCheckPassed ? "ok (2×3 transport LP, objective 125)" : "FAILED")}");
                output.WriteLine($"SIMD width      : {info.SimdWidthBits} bits ({info.SimdWidthBits / 64} doubles per vector)");
                output.WriteLine($"Cores           : {info.Cores}");
            }
            return info.HighsSelfCheckPassed ? CliApp.Success : CliApp.Failure;
        });
        return command;
    }
}
