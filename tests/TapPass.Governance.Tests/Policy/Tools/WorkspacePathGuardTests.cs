using TapPass.Governance.Policy.Tools;

namespace TapPass.Governance.Tests.Policy.Tools;

public sealed class WorkspacePathGuardTests : IDisposable
{
    private readonly string _root;
    private readonly string _workspace;
    private readonly string _outside;

    public WorkspacePathGuardTests()
    {
        _root = Path.Combine(Path.GetTempPath(), "tappass-guard-" + Guid.NewGuid().ToString("N"));
        _workspace = Path.Combine(_root, "ws");
        _outside = Path.Combine(_root, "outside");
        Directory.CreateDirectory(Path.Combine(_workspace, "src"));
        Directory.CreateDirectory(_outside);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("src/new/dir/file.cs")]
    [InlineData("./src/../src/a.txt")]
    [InlineData("src\\windows\\style.txt")]
    public void IsInside_RelativePathsBelowWorkspace_AreInside(string path)
    {
        new WorkspacePathGuard(_workspace).IsInside(path, out var reason).Should().BeTrue(reason);
    }

    [Fact]
    public void IsInside_AbsolutePathBelowWorkspace_IsInside()
    {
        new WorkspacePathGuard(_workspace).IsInside(Path.Combine(_workspace, "src", "x.txt"), out _).Should().BeTrue();
    }

    [Theory]
    [InlineData("../outside/evil.txt")]
    [InlineData("src/../../outside/evil.txt")]
    [InlineData("..\\outside\\evil.txt")]
    [InlineData("~/evil.txt")]
    [InlineData("file:///etc/passwd")]
    public void IsInside_TraversalAndEscapes_AreOutside(string path)
    {
        new WorkspacePathGuard(_workspace).IsInside(path, out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_AbsolutePathOutside_IsOutside()
    {
        var guard = new WorkspacePathGuard(_workspace);
        guard.IsInside(Path.Combine(_outside, "a.txt"), out _).Should().BeFalse();
        guard.IsInside("/etc/passwd", out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_SiblingWithSamePrefix_IsOutside()
    {
        Directory.CreateDirectory(_workspace + "2");
        new WorkspacePathGuard(_workspace).IsInside(Path.Combine(_workspace + "2", "a.txt"), out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_DirectorySymlinkPointingOutside_IsOutside()
    {
        Directory.CreateSymbolicLink(Path.Combine(_workspace, "escape"), _outside);
        new WorkspacePathGuard(_workspace).IsInside("escape/evil.txt", out var reason).Should().BeFalse();
        reason.Should().Contain("outside");
    }

    [Fact]
    public void IsInside_FileSymlinkPointingOutside_IsOutside()
    {
        var target = Path.Combine(_outside, "target.txt");
        File.WriteAllText(target, "x");
        File.CreateSymbolicLink(Path.Combine(_workspace, "link.txt"), target);
        new WorkspacePathGuard(_workspace).IsInside("link.txt", out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_DanglingSymlinkPointingOutside_IsOutside()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace, "dangling.txt"), Path.Combine(_outside, "not-yet.txt"));
        new WorkspacePathGuard(_workspace).IsInside("dangling.txt", out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_DotDotAfterSymlink_ClimbsFromTheLinkTarget()
    {
        // ws/deep -> outside/sub ; "deep/../x" is outside/x for the OS, although lexically it is ws/x.
        var sub = Directory.CreateDirectory(Path.Combine(_outside, "sub")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_workspace, "deep"), sub);
        new WorkspacePathGuard(_workspace).IsInside("deep/../x.txt", out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_SymlinkInsideWorkspace_IsInside()
    {
        Directory.CreateSymbolicLink(Path.Combine(_workspace, "alias"), Path.Combine(_workspace, "src"));
        new WorkspacePathGuard(_workspace).IsInside("alias/x.txt", out _).Should().BeTrue();
    }

    [Fact]
    public void IsInside_WorkspaceItselfBehindASymlink_UsesItsRealPath()
    {
        var link = Path.Combine(_root, "ws-link");
        Directory.CreateSymbolicLink(link, _workspace);
        var guard = new WorkspacePathGuard(link);
        guard.IsInside(Path.Combine(_workspace, "a.txt"), out _).Should().BeTrue();
        guard.IsInside("a.txt", out _).Should().BeTrue();
    }

    [Fact]
    public void IsInside_SymlinkLoop_IsOutside()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace, "loop1"), Path.Combine(_workspace, "loop2"));
        File.CreateSymbolicLink(Path.Combine(_workspace, "loop2"), Path.Combine(_workspace, "loop1"));
        new WorkspacePathGuard(_workspace).IsInside("loop1/x", out _).Should().BeFalse();
    }

    [Fact]
    public void IsInside_NoWorkspace_NothingIsInside()
    {
        new WorkspacePathGuard(null).IsInside("a.txt", out var reason).Should().BeFalse();
        reason.Should().Contain("no workspace");
    }

    [Fact]
    public void IsInside_NulCharacter_IsOutside()
    {
        new WorkspacePathGuard(_workspace).IsInside("a\0.txt", out _).Should().BeFalse();
    }
}
