using System.Runtime.InteropServices;

namespace TapPass.Sandbox;

/// <summary>
/// The facts about the process the planner needs, captured once so the planner can be tested with
/// made-up values.
/// </summary>
/// <param name="HomeDirectory">The user's home directory (<c>HOME</c>).</param>
/// <param name="CurrentDirectory">The current directory, the default workspace.</param>
/// <param name="TempDirectory">The temp directory (<c>TMPDIR</c> or <c>/tmp</c>).</param>
/// <param name="SearchPath">The <c>PATH</c> variable used to resolve allowed programs.</param>
/// <param name="RuntimePaths">The directories the .NET runtime loads files from after start-up.</param>
internal sealed record SandboxEnvironment(
    string HomeDirectory,
    string CurrentDirectory,
    string TempDirectory,
    string? SearchPath,
    IReadOnlyList<string> RuntimePaths)
{
    private const int MaxRuntimePaths = 512;

    private static readonly string[] RuntimeListKeys =
    [
        "TRUSTED_PLATFORM_ASSEMBLIES", // files
        "NATIVE_DLL_SEARCH_DIRECTORIES",
        "PLATFORM_RESOURCE_ROOTS",
        "APP_PATHS",
        "PROBING_DIRECTORIES",
    ];

    /// <summary>Captures the running process's environment.</summary>
    internal static SandboxEnvironment Capture()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            home = "/";
        }

        return new SandboxEnvironment(
            home,
            Directory.GetCurrentDirectory(),
            Path.GetTempPath(),
            Environment.GetEnvironmentVariable("PATH"),
            CollectRuntimePaths());
    }

    private static List<string> CollectRuntimePaths()
    {
        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        void Add(string? directory)
        {
            if (string.IsNullOrWhiteSpace(directory) || !Path.IsPathRooted(directory) || paths.Count >= MaxRuntimePaths)
            {
                return;
            }

            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
            if (full.Length == 0)
            {
                full = "/";
            }

            if (seen.Add(full))
            {
                paths.Add(full);
            }
        }

        // The shared framework lives in {root}/shared/{framework}/{version}/: grant the whole install root,
        // which holds the host, hostfxr and every shared framework the app may load.
        var runtimeDirectory = Path.TrimEndingDirectorySeparator(RuntimeEnvironment.GetRuntimeDirectory());
        var version = Path.GetDirectoryName(runtimeDirectory);
        var shared = version is null ? null : Path.GetDirectoryName(version);
        if (shared is not null && Path.GetFileName(shared) == "shared" && Path.GetDirectoryName(shared) is { } root)
        {
            Add(root);
        }
        else
        {
            Add(runtimeDirectory);
        }

        Add(AppContext.BaseDirectory);
        Add(Path.GetDirectoryName(Environment.ProcessPath));
        Add(Environment.GetEnvironmentVariable("DOTNET_ROOT"));

        foreach (var key in RuntimeListKeys)
        {
            if (AppContext.GetData(key) is not string list)
            {
                continue;
            }

            foreach (var entry in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Add(key == "TRUSTED_PLATFORM_ASSEMBLIES" ? Path.GetDirectoryName(entry) : entry);
            }
        }

        return paths;
    }
}
