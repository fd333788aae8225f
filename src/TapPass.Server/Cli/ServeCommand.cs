using Microsoft.AspNetCore.Builder;

namespace TapPass.Server.Cli;

/// <summary>The <c>serve</c> verb: runs the gateway until stopped.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var startup = ServerComposition.Configure(builder);
        await using var app = builder.Build();
        try
        {
            ServerComposition.MapEndpoints(app);
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync("tappass: cannot start: " + ex.Message);
            return 1;
        }

        if (startup.DevelopmentKey is { } key)
        {
            await Console.Out.WriteLineAsync($"""

                ==================================================================================
                 TapPass DEVELOPMENT API key (no keys are configured; valid until this server stops,
                 admin rights). Configure TapPass:Keys (or TAPPASS_KEYS__0__KEY ...) for real use.

                   {key}

                ==================================================================================

                """);
        }

        await app.RunAsync();
        return 0;
    }
}
