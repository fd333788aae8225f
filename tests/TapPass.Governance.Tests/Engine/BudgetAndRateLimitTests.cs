using TapPass.Governance.Tests.Fakes;

namespace TapPass.Governance.Tests.Engine;

public sealed class BudgetAndRateLimitTests
{
    // fake-model uses the default price 0.15/0.60 per million: 1000 prompt + 500 completion tokens = $0.00045.
    private static EngineHarness Expensive(Action<TapPassEngineOptions>? more = null) => new(o =>
    {
        o.Prices["fake-model"] = new TapPassModelPrice { InputPerMillion = 100m, OutputPerMillion = 400m };
        more?.Invoke(o);
    });

    [Fact]
    public async Task ChatAsync_ReportsCostFromUsageAndPriceTable()
    {
        using var h = Expensive();
        var reply = await h.ChatAsync("hi");
        // 1000 * 100 / 1e6 + 500 * 400 / 1e6 = 0.1 + 0.2
        reply.Value!.Tappass!.Cost!.Usd.Should().Be(0.3m);
    }

    [Fact]
    public async Task ChatAsync_DevBudget_BlocksOnceTheSessionCapWouldBeExceeded()
    {
        using var h = Expensive();
        var first = await h.ChatAsync("hi", "budget=dev");
        var session = first.Value!.Tappass!.SessionId;
        var statuses = new List<int> { first.StatusCode };
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await h.ChatAsync("hi", "budget=dev", session)).StatusCode);
        }

        statuses.Should().Equal(200, 200, 200, 403, 403);
        var blocked = await h.ChatAsync("hi", "budget=dev", session);
        blocked.Error!.BlockedBy.Should().Be("budget");
        blocked.Error.StepDetails!["scope"].GetString().Should().Be("session");
        blocked.Error.Reason.Should().Contain("Session budget exceeded");
    }

    [Fact]
    public async Task ChatAsync_DailyBudget_ResetsTheNextUtcDay()
    {
        using var h = Expensive();
        var statuses = new List<int>();
        for (var i = 0; i < 18; i++)
        {
            // New session each time: only the daily cap ($5) applies across them.
            statuses.Add((await h.ChatAsync("hi", "budget=dev")).StatusCode);
        }

        statuses.Should().Contain(403);
        var blocked = await h.ChatAsync("hi", "budget=dev");
        blocked.Error!.StepDetails!["scope"].GetString().Should().Be("daily");

        h.Time.Advance(TimeSpan.FromHours(24));
        (await h.ChatAsync("hi", "budget=dev")).StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task ChatAsync_CustomPerCallCap_BlocksAnExpensiveEstimate()
    {
        using var h = Expensive();
        var request = EngineHarness.Request("hi");
        request.MaxTokens = 100_000;
        var reply = await h.Engine.ChatAsync(h.Call("budget=custom:0.5:100"), request, CancellationToken.None);
        reply.StatusCode.Should().Be(403);
        reply.Error!.StepDetails!["scope"].GetString().Should().Be("call");
    }

    [Fact]
    public async Task ChatAsync_BudgetInObserveMode_OnlyFlags()
    {
        using var h = Expensive();
        var session = (await h.ChatAsync("hi", "budget=dev")).Value!.Tappass!.SessionId;
        for (var i = 0; i < 5; i++)
        {
            (await h.ChatAsync("hi", "budget=dev, mode=observe", session)).StatusCode.Should().Be(200);
        }
    }

    [Fact]
    public async Task ChatAsync_BlockedBeforeModel_DoesNotSpendBudget()
    {
        using var h = Expensive();
        var session = (await h.ChatAsync("hi", "budget=dev")).Value!.Tappass!.SessionId;
        for (var i = 0; i < 10; i++)
        {
            await h.ChatAsync("Show me all credit cards", "budget=dev", session);
        }

        (await h.ChatAsync("hi", "budget=dev", session)).StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task ChatAsync_RateLimit_RefusesWith403PolicyBlockAndRetryAfter()
    {
        using var h = new EngineHarness(o =>
        {
            o.RateLimitPerMinute = 60;
            o.RateLimitBurst = 2;
        });
        (await h.ChatAsync("a")).StatusCode.Should().Be(200);
        (await h.ChatAsync("b")).StatusCode.Should().Be(200);
        var limited = await h.ChatAsync("c");
        limited.StatusCode.Should().Be(403);
        limited.Error!.BlockedBy.Should().Be("rate_limit");
        limited.Headers.RetryAfter.Should().Be(TimeSpan.FromSeconds(1));

        h.Time.Advance(TimeSpan.FromSeconds(1));
        (await h.ChatAsync("d")).StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task ChatAsync_RateLimit_AppliesEvenInObserveMode()
    {
        using var h = new EngineHarness(o =>
        {
            o.RateLimitPerMinute = 1;
            o.RateLimitBurst = 1;
        });
        await h.ChatAsync("a", "mode=observe");
        (await h.ChatAsync("b", "mode=observe")).StatusCode.Should().Be(403);
    }
}
