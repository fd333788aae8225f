using System.Diagnostics;
using System.Reflection;

namespace TapPass.Diagnostics;

/// <summary>The SDK's <see cref="System.Diagnostics.ActivitySource"/> and tag names.</summary>
internal static class TapPassDiagnostics
{
    /// <summary>Name of the activity source (and meter) of every TapPass package.</summary>
    public const string SourceName = "TapPass";

    /// <summary>The one activity source of the SDK: a <c>tappass.chat</c>, <c>tappass.stream</c> or <c>tappass.tool</c> span per call.</summary>
    public static readonly ActivitySource ActivitySource = new(
        SourceName,
        typeof(TapPassDiagnostics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    public const string ChatActivity = "tappass.chat";
    public const string StreamActivity = "tappass.stream";
    public const string ToolActivity = "tappass.tool";

    public const string SessionIdTag = "tappass.session_id";
    public const string AgentUuidTag = "tappass.agent_uuid";
    public const string PipelineUuidTag = "tappass.pipeline_uuid";
    public const string ClassificationTag = "tappass.classification";
    public const string BlockedTag = "tappass.blocked";
    public const string ErrorTypeTag = "tappass.error_type";
    public const string ModelTag = "tappass.model";
    public const string ToolTag = "tappass.tool";
    public const string OutcomeTag = "tappass.outcome";
}
