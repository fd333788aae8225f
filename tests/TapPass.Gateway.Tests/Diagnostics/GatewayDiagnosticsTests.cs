using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using TapPass.Gateway.Tests.Fakes;

namespace TapPass.Gateway.Tests.Diagnostics;

public sealed class GatewayDiagnosticsTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Requests_RecordTapPassInstrumentsWithDottedTags()
    {
        var measurements = new ConcurrentBag<(string Instrument, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "TapPass")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, _, tags, _) => measurements.Add((i.Name, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((i, _, tags, _) => measurements.Add((i.Name, ToDictionary(tags))));
        listener.Start();

        using var allowed = await _host.Client.SendAsync(_host.Request(HttpMethod.Post, "/v1/chat/completions", Wire.Chat("hi")));
        using var blocked = await _host.Client.SendAsync(_host.Request(HttpMethod.Post, "/v1/chat/completions", Wire.Chat("BLOCK")));

        measurements.Should().Contain(m => m.Instrument == "tappass.requests"
            && (string?)m.Tags["tappass.route"] == "/v1/chat/completions" && (int?)m.Tags["http.response.status_code"] == 403);
        measurements.Should().Contain(m => m.Instrument == "tappass.request.duration");
        measurements.Should().Contain(m => m.Instrument == "tappass.decisions" && (string?)m.Tags["tappass.decision"] == "allow");
        measurements.Should().Contain(m => m.Instrument == "tappass.decisions" && (string?)m.Tags["tappass.decision"] == "policy_block");
        measurements.SelectMany(m => m.Tags.Keys).Should().OnlyContain(k => k == k.ToLowerInvariant() && k.Contains('.'));
    }

    [Fact]
    public async Task Request_WithTraceparent_StartsTapPassSpanInThatTrace()
    {
        var activities = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "TapPass",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var request = _host.Request(HttpMethod.Post, "/v1/chat/completions", Wire.Chat("hi"));
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using var response = await _host.Client.SendAsync(request);

        // The span stops when the handler returns, which can be just after the client has the answer.
        // The listener is process-wide: tests running in parallel add their own spans, so look only at this trace.
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        bool Ours(Activity a) => a.TraceId.ToString() == traceId && a.OperationName.Contains("/v1/chat/completions");
        for (var waited = 0; waited < 5000 && !activities.Any(Ours); waited += 10)
        {
            await Task.Delay(10);
        }

        var span = activities.Where(Ours).Should().ContainSingle().Which;
        span.Kind.Should().Be(ActivityKind.Server);
        _host.Transport.Calls.Single().Call.TraceParent.Should().Be(span.Id);
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var d = new Dictionary<string, object?>();
        foreach (var t in tags)
        {
            d[t.Key] = t.Value;
        }

        return d;
    }
}
