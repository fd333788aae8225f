namespace TapPass.Governance.Policy.Tools;

/// <summary>
/// Decides whether a path a tool wants to write lies inside the workspace, following the file system as the OS would:
/// relative paths are taken from the workspace, <c>\</c> is treated as a separator too, components are resolved one
/// at a time so a <c>..</c> after a symbolic link climbs from the link's target (not lexically), and every symbolic
/// link on the way (including a dangling final one) is replaced by its target. The result must be the workspace's
/// real path or below it. Paths starting with <c>~</c>, URLs and paths with NUL characters are refused.
/// </summary>
internal sealed class WorkspacePathGuard
{
    private const int MaxLinkDepth = 40;
    private const int MaxPathLength = 4096;

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string? _root;

    /// <param name="workspace">The workspace directory; null when none is configured (then nothing is inside).</param>
    public WorkspacePathGuard(string? workspace)
    {
        if (!string.IsNullOrWhiteSpace(workspace))
        {
            var full = Path.GetFullPath(workspace);
            _root = TryResolve(full, out var real) ? Trim(real) : null;
        }
    }

    /// <summary>The workspace's real path, or null.</summary>
    public string? Root => _root;

    /// <summary>True when <paramref name="path"/> resolves to the workspace or a path below it.</summary>
    public bool IsInside(string path, out string reason)
    {
        reason = "";
        if (_root is null)
        {
            reason = "no workspace is configured";
            return false;
        }

        if (string.IsNullOrWhiteSpace(path) || path.Length > MaxPathLength || path.Contains('\0', StringComparison.Ordinal))
        {
            reason = "path is empty, too long or contains NUL";
            return false;
        }

        if (path.StartsWith('~') || path.Contains("://", StringComparison.Ordinal))
        {
            reason = "home-relative paths and URLs are not allowed";
            return false;
        }

        var normalised = Path.DirectorySeparatorChar == '/' ? path.Replace('\\', '/') : path;
        var combined = Path.IsPathRooted(normalised) ? normalised : Path.Join(_root, normalised);
        if (!TryResolve(combined, out var real))
        {
            reason = "path could not be resolved (symbolic link loop)";
            return false;
        }

        real = Trim(real);
        if (string.Equals(real, _root, PathComparison) ||
            (real.StartsWith(_root, PathComparison) && real.Length > _root.Length && IsSeparator(real[_root.Length])) ||
            (_root.Length > 0 && IsSeparator(_root[^1]) && real.StartsWith(_root, PathComparison)))
        {
            return true;
        }

        reason = "path resolves outside the workspace";
        return false;
    }

    private static bool IsSeparator(char c) => c == Path.DirectorySeparatorChar || c == Path.AltDirectorySeparatorChar;

    private static string Trim(string path)
    {
        var root = Path.GetPathRoot(path) ?? "";
        return path.Length > root.Length ? path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) : path;
    }

    /// <summary>Resolves <paramref name="absolute"/> component by component, following symbolic links.</summary>
    private static bool TryResolve(string absolute, out string real)
    {
        var depth = 0;
        return TryResolve(absolute, ref depth, out real);
    }

    private static bool TryResolve(string absolute, ref int linkDepth, out string real)
    {
        real = "";
        var root = Path.GetPathRoot(absolute);
        if (string.IsNullOrEmpty(root))
        {
            return false;
        }

        var current = root;
        var components = absolute[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        foreach (var component in components)
        {
            if (component == ".")
            {
                continue;
            }

            if (component == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var candidate = Path.Join(current, component);
            string? link;
            try
            {
                link = new FileInfo(candidate).LinkTarget;
            }
            catch (IOException)
            {
                link = null;
            }
            catch (UnauthorizedAccessException)
            {
                link = null;
            }

            if (link is null)
            {
                current = candidate;
                continue;
            }

            if (++linkDepth > MaxLinkDepth)
            {
                return false;
            }

            var target = Path.IsPathRooted(link) ? link : Path.Join(current, link);
            if (!TryResolve(target, ref linkDepth, out current))
            {
                return false;
            }
        }

        real = current;
        return true;
    }
}
