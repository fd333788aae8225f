using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TapPass.Gateway.Diagnostics;

/// <summary>The gateway's <c>TapPass</c> activity source and meter instruments.</summary>
internal sealed class GatewayDiagnostics
{
    /// <summary>Name of the activity source and meter.</summary>
    public const string Name = "TapPass";

    /// <summary>The activity source (one per process, like ASP.NET Core's own).</summary>
    public static readonly ActivitySource ActivitySource = new(Name, typeof(GatewayDiagnostics).Assembly.GetName().Version?.ToString());

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _decisions;

    public GatewayDiagnostics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(Name);
        _requests = meter.CreateCounter<long>("tappass.requests", unit: "{request}", description: "Requests handled by the TapPass gateway.");
        _duration = meter.CreateHistogram<double>("tappass.request.duration", unit: "s", description: "Duration of TapPass gateway requests.");
        _decisions = meter.CreateCounter<long>("tappass.decisions", unit: "{decision}", description: "Governance decisions returned by the TapPass gateway.");
    }

    /// <summary>Starts the server span of a request, parented on the ambient activity or on <c>traceparent</c>.</summary>
    public static Activity? StartRequest(string route, string? traceParent, string? traceState)
    {
        var name = "tappass.gateway " + route;
        if (Activity.Current is null
            && traceParent is not null
            && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent))
        {
            return ActivitySource.StartActivity(name, ActivityKind.Server, parent);
        }

        return ActivitySource.StartActivity(name, ActivityKind.Server);
    }

    /// <summary>Records one finished request.</summary>
    public void RecordRequest(string route, string method, int statusCode, TimeSpan elapsed)
    {
        var tags = new TagList
        {
            { "tappass.route", route },
            { "http.request.method", method },
            { "http.response.status_code", statusCode },
        };
        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary>Records a governance decision (<c>allow</c> or the error type).</summary>
    public void RecordDecision(string route, string decision) =>
        _decisions.Add(1, new TagList { { "tappass.route", route }, { "tappass.decision", decision } });
}
