namespace TapPass.Governance.Pipeline;

/// <summary>Step names of the governance pipeline, in order.</summary>
internal static class PipelineStepNames
{
    public const string NormalizeInput = "normalize_input";
    public const string DetectPii = "detect_pii";
    public const string DetectSecrets = "detect_secrets";
    public const string DetectInjection = "detect_injection";
    public const string DetectExfiltration = "detect_exfiltration";
    public const string ClassifyData = "classify_data";
    public const string ToolIntegrity = "tool_integrity";
    public const string TrustTier = "trust_tier";
    public const string RequireApproval = "require_approval";
    public const string Budget = "budget";
    public const string RateLimit = "rate_limit";
    public const string CallModel = "call_model";
    public const string ScanOutput = "scan_output";
    public const string ToolCalls = "tool_calls";
    public const string Cost = "cost";
}
