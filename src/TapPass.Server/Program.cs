namespace TapPass.Server;

/// <summary>Entry point of the TapPass gateway host.</summary>
public static class Program
{
    /// <summary>Runs the host.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The process exit code.</returns>
    public static int Main(string[] args)
    {
        _ = args;
        return 0;
    }
}
