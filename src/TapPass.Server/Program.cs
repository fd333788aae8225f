using TapPass.Server.Cli;

namespace TapPass.Server;

/// <summary>Entry point of the TapPass gateway host.</summary>
public static class Program
{
    /// <summary>Dispatches the command-line verb: <c>scan</c> scans JSON Lines from stdin.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };

        if (args.Length > 0 && args[0] == "scan")
        {
            return await ScanCommand.RunAsync(args, cts.Token).ConfigureAwait(false);
        }

        // Default verb (`serve`): the gateway host is started here.
        return 0;
    }
}
