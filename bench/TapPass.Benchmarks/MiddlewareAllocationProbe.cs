using System.Globalization;

namespace TapPass.Benchmarks;

/// <summary>
/// Exact bytes allocated per request by <c>UseTapPass()</c> (<see cref="MiddlewareBenchmarks"/>'s pipelines, run synchronously
/// on one thread, <see cref="GC.GetAllocatedBytesForCurrentThread"/> deltas), and the sizes of the objects that make them up,
/// so the added bytes can be read as a count of objects:
/// <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- middleware-allocs</c>.
/// "server-like" runs the same requests with another async-local value already in the execution context, as in a server
/// where hosting has set <c>Activity.Current</c> or <c>IHttpContextAccessor</c>: a write then copies a two-entry value map.
/// Also prints process CPU time per request in a closed loop, for quick checks while the machine is shared.
/// </summary>
internal static class MiddlewareAllocationProbe
{
    private const int Requests = 100_000;
    private static readonly AsyncLocal<object?> ServerValue = new();

    public static int Run()
    {
        var benchmarks = new MiddlewareBenchmarks();
        benchmarks.Setup();
        try
        {
            Console.WriteLine("bytes allocated per request (synchronous pipeline, reused HttpContext):");
            Report(benchmarks, serverLike: false);
            ServerValue.Value = new object();
            Report(benchmarks, serverLike: true);
            ServerValue.Value = null;

            Console.WriteLine();
            var write = WriteBytes(serverLike: false);
            var enter = EnterBytes();
            Console.WriteLine("what a request adds (bytes, this runtime):");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  one async-local write from an empty context (ExecutionContext + one-entry value map): {write} B"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  the same with one other value present (ExecutionContext + two-entry value map): {WriteBytes(serverLike: true)} B"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  TapPassSession.Enter = the session object + that write: {enter} B, so the session is {enter - write} B"));

            Console.WriteLine();
            Console.WriteLine("process CPU time per request (ns; a closed loop for quick before/after checks on a loaded machine, not a benchmark):");
            for (var round = 0; round < 3; round++)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  no headers {CpuNs(benchmarks.NoHeaders_WithoutTapPass):0} without, {CpuNs(benchmarks.NoHeaders_WithTapPass):0} with; joined {CpuNs(benchmarks.Join_WithoutTapPass):0} without, {CpuNs(benchmarks.Join_WithTapPass):0} with"));
            }

            return 0;
        }
        finally
        {
            benchmarks.Cleanup();
        }
    }

    private static void Report(MiddlewareBenchmarks b, bool serverLike)
    {
        var label = serverLike ? "server-like" : "plain      ";
        var noWithout = PerRequest(b.NoHeaders_WithoutTapPass);
        var noWith = PerRequest(b.NoHeaders_WithTapPass);
        var joinWithout = PerRequest(b.Join_WithoutTapPass);
        var joinWith = PerRequest(b.Join_WithTapPass);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {label} no headers: {noWithout:0.##} B without, {noWith:0.##} B with TapPass (+{noWith - noWithout:0.##} B); joined session: {joinWithout:0.##} B without, {joinWith:0.##} B with (+{joinWith - joinWithout:0.##} B)"));
    }

    private static double PerRequest(Func<Task> request)
    {
        for (var i = 0; i < 1_000; i++)
        {
            Check(request());
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Requests; i++)
        {
            Check(request());
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Requests;
    }

    private static double CpuNs(Func<Task> request)
    {
        const int Count = 2_000_000;
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (var i = 0; i < 10_000; i++)
        {
            Check(request());
        }

        process.Refresh();
        var before = process.TotalProcessorTime;
        for (var i = 0; i < Count; i++)
        {
            Check(request());
        }

        process.Refresh();
        return (process.TotalProcessorTime - before).TotalNanoseconds / Count;
    }

    private static void Check(Task task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The probe measures the synchronous path; a request did not complete synchronously.");
        }
    }

    private static long EnterBytes()
    {
        Check(EnterAsync()); // warm-up
        var before = GC.GetAllocatedBytesForCurrentThread();
        Check(EnterAsync());
        return GC.GetAllocatedBytesForCurrentThread() - before;

        // An async method that completes synchronously allocates nothing itself, and its return undoes the write.
        static async Task EnterAsync()
        {
            TapPassSession.Enter("ses_probe", null, null, autoOpened: false).TryEnd();
            await Task.CompletedTask;
        }
    }

    private static long WriteBytes(bool serverLike)
    {
        var local = new AsyncLocal<object?>();
        var value = new object();
        if (serverLike)
        {
            ServerValue.Value = new object();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        local.Value = value;
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        local.Value = null;
        ServerValue.Value = null;
        return bytes;
    }
}
