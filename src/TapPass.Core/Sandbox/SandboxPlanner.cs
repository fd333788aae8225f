namespace TapPass.Sandbox;

/// <summary>
/// Turns <see cref="SandboxOptions"/> into Landlock rules. Landlock only grants (a rule on a directory
/// covers everything beneath it), so a path that must stay out of reach (a protected credential path, or
/// a carve-out granted with other rights) is handled by granting its ancestors entry by entry instead of
/// as a whole. Rules hold canonical paths (symbolic links resolved), because the kernel checks the real
/// location of every file.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class SandboxPlanner
{
    /// <summary>The most rules one plan may hold; a directory with more entries along a protected path is refused.</summary>
    internal const int MaxRules = 8192;

    private const string RuntimeReason = "runtime and system files";

    private static readonly string[] SystemTrees = ["/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"];

    /// <summary>The parts of /etc that the runtime and ordinary programs read; the rest of /etc (shadow, private keys) is not granted.</summary>
    private static readonly string[] EtcEntries =
    [
        "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "resolv.conf", "hosts", "host.conf",
        "nsswitch.conf", "gai.conf", "passwd", "group", "os-release", "ssl/certs", "ssl/openssl.cnf",
        "ca-certificates", "ca-certificates.conf", "pki/tls/certs", "pki/ca-trust", "crypto-policies",
        "gitconfig", "locale.alias", "locale.conf", "mime.types", "protocols", "services",
    ];

    private static readonly string[] ReadableDevices = ["/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];

    private static readonly EnumerationOptions ListOneLevel = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private enum IfMissing
    {
        Throw,
        Note,
        Ignore,
    }

    private readonly SandboxOptions _options;
    private readonly SandboxEnvironment _environment;
    private readonly SandboxProfile _profile;
    private readonly List<string> _protected = [];
    private readonly Dictionary<string, PlannedRule> _rules = new(StringComparer.Ordinal);
    private readonly List<string> _notes = [];
    private readonly HashSet<string> _splitNoted = new(StringComparer.Ordinal);

    private SandboxPlanner(SandboxOptions options, SandboxEnvironment environment, SandboxProfile profile)
    {
        _options = options;
        _environment = environment;
        _profile = profile;
    }

    /// <summary>Builds the plan for a validated <paramref name="options"/>. Throws <see cref="ArgumentException"/> for an unusable workspace or program.</summary>
    internal static SandboxPlan Create(SandboxOptions options, SandboxEnvironment environment)
    {
        var profile = SandboxProfiles.From(options.Tier);
        if (profile == SandboxProfile.Full)
        {
            throw new ArgumentException("The full tier has no rules to plan.", nameof(options));
        }

        return new SandboxPlanner(options, environment, profile).Build();
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies beneath it (canonical paths, ordinal).</summary>
    internal static bool IsSameOrUnder(string path, string root)
    {
        if (root == "/")
        {
            return path.StartsWith('/');
        }

        return path.Length >= root.Length
            && path.StartsWith(root, StringComparison.Ordinal)
            && (path.Length == root.Length || path[root.Length] == '/');
    }

    /// <summary>Whether <paramref name="path"/> lies strictly beneath <paramref name="root"/>.</summary>
    internal static bool IsStrictlyUnder(string path, string root) => path.Length != root.Length && IsSameOrUnder(path, root);

    private SandboxPlan Build()
    {
        foreach (var entry in _options.ProtectedPaths)
        {
            var full = Path.IsPathRooted(entry) ? entry : Path.Combine(_environment.HomeDirectory, entry);
            _protected.Add(CanonicalizeMaybeMissing(Path.GetFullPath(full)));
        }

        var workspace = ResolveWorkspace();
        var writable = new List<string> { workspace };
        var limitations = new List<string>
        {
            "UDP, raw and other non-TCP sockets are not restricted (DNS over UDP keeps working)",
            "connecting to named unix sockets (for example /var/run/docker.sock) is not restricted",
            "sending signals to other processes is not restricted",
            "metadata changes (chmod, chown, utimes, extended attributes) and path lookups (stat, readlink, chdir) are not restricted",
            "files and sockets opened before Secure() keep their access; processes started before Secure() are not sandboxed",
            "code loaded into this process (assemblies, native libraries through dlopen/mmap) is not subject to the execute right",
        };

        var connectPorts = new List<PlannedPort>();
        if (_options.GatewayPort is { } gatewayPort)
        {
            connectPorts.Add(new PlannedPort(gatewayPort, "TapPass gateway"));
        }

        switch (_profile)
        {
            case SandboxProfile.Observer:
                AddSystemAndRuntime(devNullWritable: false);
                Grant(workspace, LandlockAccess.Read, "workspace (read-only)", IfMissing.Throw);
                AddExtraReads();
                break;

            case SandboxProfile.Worker:
                AddSystemAndRuntime(devNullWritable: true);
                Grant(workspace, LandlockAccess.ReadWrite, "workspace", IfMissing.Throw);
                AddExtraReads();
                AddExtraWrites(writable);
                AddAllowedPrograms(limitations);
                break;

            case SandboxProfile.Default:
            case SandboxProfile.Standard:
                if (_profile == SandboxProfile.Standard)
                {
                    var temp = CanonicalizeExisting(_environment.TempDirectory);
                    if (temp is null)
                    {
                        _notes.Add($"temp directory {_environment.TempDirectory} does not exist: not granted");
                    }
                    else
                    {
                        writable.Add(temp);
                        Grant(temp, LandlockAccess.ReadWrite, "temp directory", IfMissing.Note);
                    }
                }

                Grant(workspace, LandlockAccess.ReadWrite, "workspace", IfMissing.Throw);
                AddExtraWrites(writable);
                AddExtraReads();
                AddRestOfFilesystem(writable);
                AddRuntime();
                AddDevices(devNullWritable: true);
                limitations.Add("files outside the protected paths are readable, including secrets kept elsewhere (for example .env files, or /etc/shadow when running as root)");
                break;
        }

        var restrictConnect = _profile != SandboxProfile.Standard;
        if (restrictConnect && _profile != SandboxProfile.Observer)
        {
            foreach (var port in _options.AllowedTcpPorts)
            {
                connectPorts.Add(new PlannedPort(port, "allowed by the caller"));
            }
        }

        var ports = connectPorts
            .GroupBy(p => p.Port)
            .Select(g => new PlannedPort(g.Key, string.Join("; ", g.Select(p => p.Reason).Distinct(StringComparer.Ordinal))))
            .OrderBy(p => p.Port)
            .ToList();
        if (restrictConnect && ports.Count > 0)
        {
            limitations.Add("TCP port rules match the port on any host, not the host: " + string.Join(", ", ports.Select(p => p.Port)) + " can be reached on every address");
        }

        return new SandboxPlan
        {
            Profile = _profile,
            PathRules = Compact(_rules.Values),
            RestrictConnect = restrictConnect,
            RestrictBind = true,
            ConnectPorts = restrictConnect ? ports : [],
            Limitations = limitations,
            Notes = _notes,
        };
    }

    /// <summary>Drops rules that a rule on an ancestor directory already covers (same or more rights); sorts by path.</summary>
    internal static IReadOnlyList<PlannedRule> Compact(IEnumerable<PlannedRule> rules)
    {
        var sorted = rules.OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
        var kept = new List<PlannedRule>(sorted.Count);
        foreach (var rule in sorted)
        {
            var covered = kept.Any(k => k.IsDirectory
                && IsStrictlyUnder(rule.Path, k.Path)
                && (rule.Rights & ~k.Rights) == 0);
            if (!covered)
            {
                kept.Add(rule);
            }
        }

        return kept;
    }

    private string ResolveWorkspace()
    {
        var requested = _options.Workspace ?? _environment.CurrentDirectory;
        var full = Path.GetFullPath(requested, _environment.CurrentDirectory);
        var real = CanonicalizeExisting(full);
        if (real is null || !Directory.Exists(real))
        {
            throw new ArgumentException($"The workspace '{full}' is not an existing directory.", nameof(SandboxOptions.Workspace));
        }

        if (real == "/")
        {
            throw new ArgumentException("The workspace cannot be the root directory: the sandbox would restrict nothing.", nameof(SandboxOptions.Workspace));
        }

        if (_protected.Any(p => IsSameOrUnder(real, p)))
        {
            throw new ArgumentException($"The workspace '{real}' lies inside a protected credential path.", nameof(SandboxOptions.Workspace));
        }

        return real;
    }

    private void AddSystemAndRuntime(bool devNullWritable)
    {
        foreach (var tree in SystemTrees)
        {
            Grant(tree, LandlockAccess.Read, RuntimeReason, IfMissing.Ignore);
        }

        foreach (var entry in EtcEntries)
        {
            Grant("/etc/" + entry, LandlockAccess.Read, "system configuration the runtime and programs read", IfMissing.Ignore);
        }

        Grant("/proc", LandlockAccess.Read, "process information (/proc)", IfMissing.Ignore);
        Grant("/sys", LandlockAccess.Read, "system information (/sys)", IfMissing.Ignore);
        AddRuntime();
        AddDevices(devNullWritable);
    }

    private void AddRuntime()
    {
        foreach (var path in _environment.RuntimePaths)
        {
            Grant(path, LandlockAccess.Read, ".NET runtime and application files", IfMissing.Ignore);
        }
    }

    private void AddDevices(bool devNullWritable)
    {
        Grant("/dev/null", devNullWritable ? LandlockAccess.DeviceReadWrite : LandlockAccess.ReadFile, "null device", IfMissing.Ignore);
        foreach (var device in ReadableDevices)
        {
            Grant(device, LandlockAccess.ReadFile, "harmless device", IfMissing.Ignore);
        }
    }

    private void AddExtraReads()
    {
        foreach (var path in _options.ExtraReadPaths)
        {
            Grant(Path.GetFullPath(path, _environment.CurrentDirectory), LandlockAccess.Read, "extra read path", IfMissing.Note);
        }
    }

    private void AddExtraWrites(List<string> writable)
    {
        foreach (var path in _options.ExtraWritePaths)
        {
            var full = Path.GetFullPath(path, _environment.CurrentDirectory);
            if (CanonicalizeExisting(full) is { } real)
            {
                writable.Add(real);
            }

            Grant(full, LandlockAccess.ReadWrite, "extra write path", IfMissing.Note);
        }
    }

    /// <summary>Default and standard profiles: everything read-only and executable, except /dev (only harmless devices), the protected paths and the writable carve-outs.</summary>
    private void AddRestOfFilesystem(List<string> writable)
    {
        _notes.Add("/ is granted entry by entry as of Secure(): / itself cannot be listed and new top-level entries are not accessible");
        foreach (var entry in new DirectoryInfo("/").EnumerateFileSystemInfos("*", ListOneLevel))
        {
            if (entry.LinkTarget is not null)
            {
                continue; // its target is granted through its real location
            }

            var path = "/" + entry.Name;
            switch (entry.Name)
            {
                case "dev":
                    break; // raw disks and terminals live here; AddDevices grants the harmless ones
                case "proc":
                case "sys":
                    GrantCanonical(path, entry is DirectoryInfo, LandlockAccess.Read, "process and system information", writable);
                    break;
                default:
                    GrantCanonical(path, entry is DirectoryInfo, LandlockAccess.ReadExecute, "the rest of the filesystem (read-only)", writable);
                    break;
            }
        }
    }

    private void AddAllowedPrograms(List<string> limitations)
    {
        var programs = new List<(string Name, string Real)>();
        foreach (var name in _options.AllowedPrograms.Distinct(StringComparer.Ordinal))
        {
            var found = ResolveProgram(name);
            if (found is null)
            {
                _notes.Add($"allowed program '{name}' was not found on PATH: not executable");
                continue;
            }

            var real = CanonicalizeExisting(found);
            if (real is null || _protected.Any(p => IsSameOrUnder(real, p)))
            {
                _notes.Add($"allowed program '{name}' ({found}) cannot be granted");
                continue;
            }

            programs.Add((name, real));
        }

        var allowedReal = programs.Select(p => p.Real).ToHashSet(StringComparer.Ordinal);
        var loaders = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, real) in programs)
        {
            (ExecutableInspector.Kind kind, string? interpreter) inspected;
            try
            {
                inspected = ExecutableInspector.Inspect(real);
            }
            catch (IOException)
            {
                _notes.Add($"allowed program '{name}' ({real}) cannot be read: not executable");
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                _notes.Add($"allowed program '{name}' ({real}) cannot be read: not executable");
                continue;
            }

            switch (inspected.kind)
            {
                case ExecutableInspector.Kind.Script:
                    var interpreter = inspected.interpreter is null ? null : CanonicalizeExisting(inspected.interpreter);
                    if (interpreter is null || !allowedReal.Contains(interpreter))
                    {
                        throw new ArgumentException(
                            $"Allowed program '{name}' ({real}) is a script run by '{inspected.interpreter}'; allow that interpreter explicitly (it can then run any script) or remove '{name}'.",
                            nameof(SandboxOptions.AllowedPrograms));
                    }

                    break;
                case ExecutableInspector.Kind.DynamicElf:
                    if (CanonicalizeExisting(inspected.interpreter!) is { } loader)
                    {
                        loaders.Add(loader);
                    }

                    break;
                case ExecutableInspector.Kind.Unknown:
                    _notes.Add($"allowed program '{name}' ({real}) is not a recognised executable; the kernel decides whether it runs");
                    break;
            }

            Grant(real, LandlockAccess.ReadFile | LandlockAccess.Execute, $"allowed program '{name}'", IfMissing.Note);
        }

        foreach (var loader in loaders)
        {
            Grant(loader, LandlockAccess.ReadFile | LandlockAccess.Execute, "dynamic loader of the allowed programs", IfMissing.Note);
        }

        if (loaders.Count > 0)
        {
            limitations.Add("the dynamic loader must be executable for the allowed programs, so '" + loaders.First()
                + " PROGRAM' can start any readable program: the allow-list stops commands, not code already running in this process");
        }

        if (programs.Any(p => string.Equals(Path.GetFileName(p.Real), "git", StringComparison.Ordinal)))
        {
            Grant(Path.Combine(_environment.HomeDirectory, ".gitconfig"), LandlockAccess.ReadFile, "git configuration", IfMissing.Ignore);
            Grant(Path.Combine(_environment.HomeDirectory, ".config", "git"), LandlockAccess.Read, "git configuration", IfMissing.Ignore);
        }
    }

    private string? ResolveProgram(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        var search = _environment.SearchPath;
        if (string.IsNullOrEmpty(search))
        {
            return null;
        }

        foreach (var directory in search.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Path.IsPathRooted(directory))
            {
                continue; // a relative PATH entry depends on the current directory: never trust it
            }

            var candidate = Path.Combine(directory, name);
            try
            {
                if (File.Exists(candidate)
                    && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                {
                    return candidate;
                }
            }
            catch (IOException)
            {
                // unreadable entry: keep searching
            }
            catch (UnauthorizedAccessException)
            {
                // unreadable entry: keep searching
            }
        }

        return null;
    }

    /// <summary>Grants <paramref name="rights"/> on <paramref name="path"/> (symbolic links followed) unless it is protected.</summary>
    private void Grant(string path, ulong rights, string reason, IfMissing ifMissing)
    {
        var real = CanonicalizeExisting(path);
        if (real is null)
        {
            switch (ifMissing)
            {
                case IfMissing.Throw:
                    throw new ArgumentException($"'{path}' does not exist.", nameof(path));
                case IfMissing.Note:
                    _notes.Add($"{path} ({reason}) does not exist: not granted");
                    break;
            }

            return;
        }

        GrantCanonical(real, Directory.Exists(real), rights, reason, carveOuts: []);
    }

    /// <summary>
    /// Grants on a canonical path. When a protected path or a carve-out lies beneath a directory, the directory's
    /// entries are granted one by one (symbolic links skipped: their targets are granted where they really are)
    /// and the directory itself gets no right.
    /// </summary>
    private void GrantCanonical(string real, bool isDirectory, ulong rights, string reason, IReadOnlyList<string> carveOuts)
    {
        if (_protected.Any(p => IsSameOrUnder(real, p)))
        {
            _notes.Add($"{real} ({reason}) is a protected path: not granted");
            return;
        }

        if (carveOuts.Any(c => IsSameOrUnder(real, c)))
        {
            return; // granted separately, with other rights
        }

        if (isDirectory && (_protected.Any(p => IsStrictlyUnder(p, real)) || carveOuts.Any(c => IsStrictlyUnder(c, real))))
        {
            if (_splitNoted.Add(real))
            {
                _notes.Add($"{real} contains protected or separately granted paths: its entries are granted one by one as of Secure(), so {real} itself cannot be listed or changed");
            }

            foreach (var entry in new DirectoryInfo(real).EnumerateFileSystemInfos("*", ListOneLevel))
            {
                if (entry.LinkTarget is not null)
                {
                    continue;
                }

                GrantCanonical(real == "/" ? "/" + entry.Name : real + "/" + entry.Name, entry is DirectoryInfo, rights, reason, carveOuts);
            }

            return;
        }

        AddRule(real, isDirectory, isDirectory ? rights : rights & LandlockAccess.FileRights, reason);
    }

    private void AddRule(string path, bool isDirectory, ulong rights, string reason)
    {
        if (rights == 0)
        {
            return;
        }

        if (_rules.TryGetValue(path, out var existing))
        {
            var reasons = existing.Reason.Split("; ").Contains(reason, StringComparer.Ordinal) ? existing.Reason : existing.Reason + "; " + reason;
            _rules[path] = existing with { Rights = existing.Rights | rights, Reason = reasons };
            return;
        }

        if (_rules.Count >= MaxRules)
        {
            throw new InvalidOperationException(
                $"The sandbox needs more than {MaxRules} rules (directories along a protected path hold too many entries); choose a narrower workspace or fewer protected paths.");
        }

        _rules.Add(path, new PlannedRule(path, isDirectory, rights, reason));
    }

    /// <summary>The canonical path of an existing path, or <see langword="null"/>.</summary>
    private static string? CanonicalizeExisting(string path) => LandlockNative.TryRealPath(path);

    /// <summary>The canonical form of a path that may not exist yet: the nearest existing ancestor is resolved and the rest appended.</summary>
    private static string CanonicalizeMaybeMissing(string fullPath)
    {
        var missing = new Stack<string>();
        var current = Path.TrimEndingDirectorySeparator(fullPath);
        while (true)
        {
            if (CanonicalizeExisting(current) is { } real)
            {
                var result = real;
                while (missing.Count > 0)
                {
                    result = result == "/" ? "/" + missing.Pop() : result + "/" + missing.Pop();
                }

                return result;
            }

            var parent = Path.GetDirectoryName(current);
            if (parent is null)
            {
                return fullPath;
            }

            missing.Push(Path.GetFileName(current));
            current = parent;
        }
    }
}
