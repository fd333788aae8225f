namespace TapPass.Sandbox;

/// <summary>
/// What <see cref="TapPassSandbox.Secure(SandboxOptions)"/> locks the process down to. Every property
/// documents its default; an instance with no property set is the default profile
/// (workspace = current directory, the rest read-only, credentials unreadable, TCP only to the gateway).
/// </summary>
public sealed class SandboxOptions
{
    internal const int MaxListEntries = 256;
    internal const int MaxPathLength = 4096;
    internal const int MaxProgramNameLength = 255;

    /// <summary>The programs a <see cref="TrustTier.Worker"/> sandbox may execute unless configured otherwise.</summary>
    public static IReadOnlyList<string> DefaultAllowedPrograms { get; } = ["ls", "cat", "git", "grep", "head", "tail", "wc"];

    /// <summary>
    /// The credential locations (relative to the home directory) that no tier except
    /// <see cref="TrustTier.Full"/> can read, list or modify.
    /// </summary>
    public static IReadOnlyList<string> DefaultProtectedHomePaths { get; } =
    [
        ".ssh", ".aws", ".config/gcloud", ".azure", ".kube", ".docker",
        ".gnupg", ".netrc", ".git-credentials", ".config/gh",
    ];

    /// <summary>
    /// The tier to lock down to. Default <see langword="null"/>: the default profile (workspace read/write,
    /// everything else read-only and executable, credential directories unreadable, TCP connect only to
    /// the gateway and <see cref="AllowedTcpPorts"/>), which the gateway sees as <see cref="TrustTier.Standard"/>.
    /// </summary>
    public TrustTier? Tier { get; set; }

    /// <summary>
    /// The workspace directory the agent works in. Default <see langword="null"/>: the current directory.
    /// It must exist and must not be the root directory.
    /// </summary>
    public string? Workspace { get; set; }

    /// <summary>
    /// The TapPass gateway the agent talks to; TCP connect to its port stays allowed in every tier
    /// (Landlock matches the port, not the host). Default <see langword="null"/>: no gateway port is opened.
    /// </summary>
    public Uri? Gateway { get; set; }

    /// <summary>
    /// Extra TCP ports the process may connect to (any host) in the <see cref="TrustTier.Worker"/> tier and
    /// the default profile. Default: empty. Must be empty for <see cref="TrustTier.Observer"/>. At most 256 ports, 1–65535.
    /// </summary>
    public IList<int> AllowedTcpPorts { get; } = new List<int>();

    /// <summary>
    /// The programs a <see cref="TrustTier.Worker"/> sandbox may execute: bare names resolved with <c>PATH</c>
    /// when <see cref="TapPassSandbox.Secure(SandboxOptions)"/> runs, or absolute paths. Default:
    /// <see cref="DefaultAllowedPrograms"/>. Ignored by the other tiers (observer executes nothing, the default
    /// profile and standard execute any installed program). At most 256 entries.
    /// </summary>
    public IList<string> AllowedPrograms { get; } = new List<string>(DefaultAllowedPrograms);

    /// <summary>Extra files or directories the process may read (and list). Default: empty. At most 256 entries.</summary>
    public IList<string> ExtraReadPaths { get; } = new List<string>();

    /// <summary>
    /// Extra files or directories the process may read and write. Default: empty. Must be empty for
    /// <see cref="TrustTier.Observer"/>. At most 256 entries.
    /// </summary>
    public IList<string> ExtraWritePaths { get; } = new List<string>();

    /// <summary>
    /// Paths no restricted tier grants, even when a granted directory contains them: their parent
    /// directories are granted entry by entry instead. Relative paths are relative to the home directory.
    /// Default: <see cref="DefaultProtectedHomePaths"/>. At most 256 entries.
    /// </summary>
    public IList<string> ProtectedPaths { get; } = new List<string>(DefaultProtectedHomePaths);

    /// <summary>
    /// When <see langword="true"/>, a kernel without Landlock (or a non-Linux OS, or a kernel without
    /// Landlock network rules for a tier that restricts TCP) yields a report that lists what is not enforced
    /// instead of a <see cref="PlatformNotSupportedException"/>. Default <see langword="false"/>.
    /// </summary>
    public bool BestEffort { get; set; }

    /// <summary>How long to wait for every thread of the process to confirm the lock-down. Default 5 seconds, at most 1 minute.</summary>
    public TimeSpan ThreadConfirmationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Validates bounds and contradictions; throws <see cref="ArgumentException"/> with the offending property.</summary>
    internal void Validate()
    {
        if (Tier is { } tier && !Enum.IsDefined(tier))
        {
            throw new ArgumentException($"Unknown trust tier {(int)tier}.", nameof(Tier));
        }

        if (Workspace is not null)
        {
            ValidatePath(Workspace, nameof(Workspace));
        }

        if (Gateway is not null && !Gateway.IsAbsoluteUri)
        {
            throw new ArgumentException("The gateway must be an absolute URI.", nameof(Gateway));
        }

        ValidateCount(AllowedTcpPorts.Count, nameof(AllowedTcpPorts));
        foreach (var port in AllowedTcpPorts)
        {
            if (port is < 1 or > 65535)
            {
                throw new ArgumentException($"TCP port {port} is outside 1–65535.", nameof(AllowedTcpPorts));
            }
        }

        ValidateCount(AllowedPrograms.Count, nameof(AllowedPrograms));
        foreach (var program in AllowedPrograms)
        {
            if (string.IsNullOrWhiteSpace(program) || program.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException("An allowed program is empty or contains NUL.", nameof(AllowedPrograms));
            }

            if (program.Contains('/', StringComparison.Ordinal))
            {
                ValidatePath(program, nameof(AllowedPrograms));
                if (!Path.IsPathRooted(program))
                {
                    throw new ArgumentException($"Allowed program '{program}' must be a bare name or an absolute path.", nameof(AllowedPrograms));
                }
            }
            else if (program.Length > MaxProgramNameLength)
            {
                throw new ArgumentException("An allowed program name is longer than 255 characters.", nameof(AllowedPrograms));
            }
        }

        ValidatePaths(ExtraReadPaths, nameof(ExtraReadPaths));
        ValidatePaths(ExtraWritePaths, nameof(ExtraWritePaths));
        ValidatePaths(ProtectedPaths, nameof(ProtectedPaths));

        if (ThreadConfirmationTimeout <= TimeSpan.Zero || ThreadConfirmationTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException("The thread confirmation timeout must be between 0 and 1 minute.", nameof(ThreadConfirmationTimeout));
        }

        if (Tier == TrustTier.Observer)
        {
            if (ExtraWritePaths.Count > 0)
            {
                throw new ArgumentException("The observer tier writes nowhere; ExtraWritePaths must be empty.", nameof(ExtraWritePaths));
            }

            if (AllowedTcpPorts.Count > 0)
            {
                throw new ArgumentException("The observer tier connects only to the gateway; AllowedTcpPorts must be empty.", nameof(AllowedTcpPorts));
            }
        }
    }

    /// <summary>The TCP port of <see cref="Gateway"/> (the scheme's default port when none is given), or <see langword="null"/>.</summary>
    internal int? GatewayPort => Gateway is { IsAbsoluteUri: true, Port: > 0 and <= 65535 } gateway ? gateway.Port : null;

    private static void ValidateCount(int count, string name)
    {
        if (count > MaxListEntries)
        {
            throw new ArgumentException($"At most {MaxListEntries} entries are accepted.", name);
        }
    }

    private static void ValidatePaths(IList<string> paths, string name)
    {
        ValidateCount(paths.Count, name);
        foreach (var path in paths)
        {
            ValidatePath(path, name);
        }
    }

    private static void ValidatePath(string path, string name)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException("A path is empty.", name);
        }

        if (path.Length > MaxPathLength)
        {
            throw new ArgumentException($"A path is longer than {MaxPathLength} characters.", name);
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A path contains NUL.", name);
        }
    }
}
