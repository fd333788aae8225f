using BenchmarkDotNet.Running;
using TapPass.Benchmarks;

if (args.Length > 0 && args[0] == "profile")
{
    return await ProfileLoop.RunAsync(args);
}

if (args.Length > 0 && args[0] == "middleware-allocs")
{
    return MiddlewareAllocationProbe.Run();
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
