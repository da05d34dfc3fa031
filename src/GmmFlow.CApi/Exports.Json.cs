using System.Runtime.InteropServices;

namespace GmmFlow.CApi;

/// <summary>
/// JSON in memory (gmf_*_to_json / gmf_*_from_json): the file formats of the CLI as byte buffers, so a caller can
/// ship mixtures and plans between processes (Python pickling, Dask workers) without temporary files.
/// </summary>
internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_to_json")]
    public static int MixtureToJson(nint mixture, byte* buffer, long capacity, long* length)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            using var stream = new MemoryStream();
            MixtureJson.Write(m, stream);
            return CopyOut(stream, buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_from_json")]
    public static int MixtureFromJson(byte* text, long length, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            using var stream = In(text, length);
            Handles.Out(result, MixtureJson.Read(stream, "mixture JSON", renormalizeWeights: false, out _));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_to_json")]
    public static int PlanToJson(nint plan, byte* buffer, long capacity, long* length)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            using var stream = new MemoryStream();
            p.Write(stream);
            return CopyOut(stream, buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_from_json")]
    public static int PlanFromJson(byte* text, long length, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            using var stream = In(text, length);
            bool linear = PlanView.HasDynamics(stream);
            stream.Position = 0;
            Handles.Out(result, linear ? LinearPlanJson.Read(stream, "plan JSON") : PlanJson.Read(stream, "plan JSON"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>Two-call protocol: *length always receives the size; the bytes are copied only when they fit.</summary>
    private static int CopyOut(MemoryStream stream, byte* buffer, long capacity, long* length)
    {
        Handles.CheckOut(length, "length");
        long size = stream.Length;
        *length = size;
        if (buffer is null)
        {
            return 0;
        }
        if (capacity < size)
        {
            throw new ArgumentException($"The buffer holds {capacity} bytes; the JSON needs {size} (call with buffer = NULL to ask).", "capacity");
        }
        stream.GetBuffer().AsSpan(0, (int)size).CopyTo(new Span<byte>(buffer, (int)size));
        return 0;
    }

    /// <summary>All or nothing: writes beside the destination, then renames over it.</summary>
    private static void WriteAtomic(string file, Action<Stream> write)
    {
        string temporary = file + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using (var stream = File.Create(temporary))
            {
                write(stream);
            }
            File.Move(temporary, file, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static UnmanagedMemoryStream In(byte* text, long length)
    {
        if (text is null || length <= 0)
        {
            throw new ArgumentException("The JSON text is NULL or empty.", "text");
        }
        return new UnmanagedMemoryStream(text, length);
    }
}
