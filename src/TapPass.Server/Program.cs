using TapPass.Server.Cli;

namespace TapPass.Server;

/// <summary>Entry point of the TapPass gateway host: dispatches to a verb (default <c>serve</c>).</summary>
public sealed class Program
{
    private Program()
    {
    }

    /// <summary>Runs the verb named by the first argument.</summary>
    /// <param name="args">Command-line arguments: <c>[verb] [options]</c>.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var hasVerb = args.Length > 0 && !args[0].StartsWith('-');
        var verb = hasVerb ? args[0] : "serve";
        var rest = hasVerb ? args[1..] : args;
        switch (verb)
        {
            case "serve":
                return await ServeCommand.RunAsync(rest);
            case "scan":
                using (var cts = new CancellationTokenSource())
                {
                    Console.CancelKeyPress += (_, e) =>
                    {
                        e.Cancel = true;
                        cts.Cancel();
                    };
                    return await ScanCommand.RunAsync(args, cts.Token).ConfigureAwait(false);
                }

            case "keygen":
                return await KeygenCommand.RunAsync(Console.Out);
            case "help" or "--help" or "-h":
                await Console.Out.WriteLineAsync(Usage);
                return 0;
            default:
                await Console.Error.WriteLineAsync($"Unknown command '{verb}'.\n{Usage}");
                return 2;
        }
    }

    private const string Usage = """
        Usage: tappass [command] [options]

        Commands:
          serve    Run the gateway (default). Listens on http://127.0.0.1:9620 unless --urls or ASPNETCORE_URLS says otherwise.
          scan     Read JSON Lines {"id","text"} on stdin; write one detection line per input on stdout.
          keygen   Print a new API key and the SHA-256 to configure for it (TapPass:Gateway:Keys:N:KeySha256).
          help     Show this text.
        """;
}
