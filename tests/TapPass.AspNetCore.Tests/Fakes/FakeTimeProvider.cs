namespace TapPass.AspNetCore.Tests.Fakes;

/// <summary>A clock that only moves when told to.</summary>
internal sealed class FakeTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
