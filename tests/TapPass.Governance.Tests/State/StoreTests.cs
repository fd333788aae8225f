using TapPass.Governance.State;
using TapPass.Governance.Tests.Fakes;

namespace TapPass.Governance.Tests.State;

public sealed class StoreTests
{
    [Fact]
    public async Task Budget_ReserveAndSettle_TracksSessionAndDailySpend()
    {
        var store = new InMemoryBudgetStore();
        var day = new DateOnly(2025, 3, 14);
        var r = await store.TryReserveAsync(new BudgetRequest("s1", "a", day, 0.4m, 1m, 5m), default);
        r.Granted.Should().BeTrue();
        await store.SettleAsync(r, 0.3m, default);
        (await store.GetSpendAsync("s1", "a", day, default)).Should().Be(new BudgetSpend(0.3m, 0.3m));

        var denied = await store.TryReserveAsync(new BudgetRequest("s1", "a", day, 0.8m, 1m, 5m), default);
        denied.Granted.Should().BeFalse();
        denied.DeniedBy.Should().Be("session");
        (await store.GetSpendAsync("s1", "a", day, default)).SessionUsd.Should().Be(0.3m);
    }

    [Fact]
    public async Task Budget_NewDay_StartsFromZero()
    {
        var store = new InMemoryBudgetStore();
        var day = new DateOnly(2025, 3, 14);
        var r = await store.TryReserveAsync(new BudgetRequest("s1", "a", day, 4.9m, null, 5m), default);
        r.Granted.Should().BeTrue();
        (await store.TryReserveAsync(new BudgetRequest("s2", "a", day, 0.2m, null, 5m), default)).DeniedBy.Should().Be("daily");
        (await store.TryReserveAsync(new BudgetRequest("s3", "a", day.AddDays(1), 0.2m, null, 5m), default)).Granted.Should().BeTrue();
    }

    [Fact]
    public async Task Budget_ConcurrentReservations_NeverExceedTheCap()
    {
        var store = new InMemoryBudgetStore();
        var day = new DateOnly(2025, 3, 14);
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
            await store.TryReserveAsync(new BudgetRequest("s", "a", day, 0.1m, 10m, null), default))));
        results.Count(r => r.Granted).Should().Be(100);
    }

    [Fact]
    public async Task RateLimit_TokenBucket_RefillsOverTime()
    {
        var store = new InMemoryRateLimitStore();
        var rule = new RateLimitRule(2, 1);
        var t = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        (await store.TryAcquireAsync("a", rule, t, default)).Acquired.Should().BeTrue();
        (await store.TryAcquireAsync("a", rule, t, default)).Acquired.Should().BeTrue();
        var third = await store.TryAcquireAsync("a", rule, t, default);
        third.Acquired.Should().BeFalse();
        third.RetryAfter.Should().Be(TimeSpan.FromSeconds(1));
        (await store.TryAcquireAsync("b", rule, t, default)).Acquired.Should().BeTrue();
        (await store.TryAcquireAsync("a", rule, t.AddSeconds(1), default)).Acquired.Should().BeTrue();
    }

    [Fact]
    public async Task Idempotency_States_StartedReplayConflictInProgress()
    {
        var time = new ManualTimeProvider();
        var store = new InMemoryIdempotencyStore(time);
        (await store.BeginAsync("k", "h1", default)).State.Should().Be(IdempotencyState.Started);
        (await store.BeginAsync("k", "h1", default)).State.Should().Be(IdempotencyState.InProgress);
        (await store.BeginAsync("k", "h2", default)).State.Should().Be(IdempotencyState.Conflict);
        await store.CompleteAsync("k", new IdempotentOutcome { StatusCode = 200 }, default);
        var replay = await store.BeginAsync("k", "h1", default);
        replay.State.Should().Be(IdempotencyState.Replay);
        replay.Outcome!.StatusCode.Should().Be(200);
        time.Advance(TimeSpan.FromHours(24));
        (await store.BeginAsync("k", "h2", default)).State.Should().Be(IdempotencyState.Started);
    }

    [Fact]
    public async Task Idempotency_Abandon_LetsTheKeyBeUsedAgain()
    {
        var store = new InMemoryIdempotencyStore(new ManualTimeProvider());
        await store.BeginAsync("k", "h", default);
        await store.AbandonAsync("k", default);
        (await store.BeginAsync("k", "other", default)).State.Should().Be(IdempotencyState.Started);
    }

    [Fact]
    public async Task Sessions_NextTurn_CountsAndSlidesExpiry()
    {
        var time = new ManualTimeProvider();
        var store = new InMemorySessionStore(time);
        var now = time.GetUtcNow();
        await store.CreateAsync(new SessionRecord { Id = "ses_1", Org = "o", AgentId = "a", AgentUuid = "u", CreatedAt = now, ExpiresAt = now.AddMinutes(5) }, default);
        (await store.NextTurnAsync("ses_1", now, now.AddMinutes(10), default)).Should().Be(0);
        (await store.NextTurnAsync("ses_1", now, now.AddMinutes(10), default)).Should().Be(1);
        (await store.GetAsync("ses_1", default))!.ExpiresAt.Should().Be(now.AddMinutes(10));
        (await store.NextTurnAsync("ses_1", now.AddMinutes(11), now.AddMinutes(20), default)).Should().BeNull();
        (await store.NextTurnAsync("missing", now, now, default)).Should().BeNull();
    }

    [Fact]
    public async Task Sessions_Full_PurgesExpiredThenRefuses()
    {
        var time = new ManualTimeProvider();
        var store = new InMemorySessionStore(time, maxSessions: 2);
        var now = time.GetUtcNow();
        SessionRecord S(string id, int minutes) => new() { Id = id, Org = "o", AgentId = "a", AgentUuid = "u", CreatedAt = now, ExpiresAt = now.AddMinutes(minutes) };
        await store.CreateAsync(S("a", 1), default);
        await store.CreateAsync(S("b", 60), default);
        time.Advance(TimeSpan.FromMinutes(2));
        await store.CreateAsync(S("c", 60), default);
        var act = async () => await store.CreateAsync(S("d", 60), default);
        await act.Should().ThrowAsync<StoreFullException>();
    }

    [Fact]
    public async Task ToolPins_FirstPinsThenMatchesOrChanged()
    {
        var store = new InMemoryToolPinStore();
        (await store.PinAsync("s", "t", "aa", default)).Should().Be(PinResult.Pinned);
        (await store.PinAsync("s", "t", "AA", default)).Should().Be(PinResult.Matches);
        (await store.PinAsync("s", "t", "bb", default)).Should().Be(PinResult.Changed);
        (await store.PinAsync("s2", "t", "bb", default)).Should().Be(PinResult.Pinned);
    }
}
