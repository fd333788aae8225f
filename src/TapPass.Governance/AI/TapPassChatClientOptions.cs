namespace TapPass.Governance;

/// <summary>Options of a <see cref="TapPassChatClient"/>.</summary>
public sealed class TapPassChatClientOptions
{
    /// <summary>
    /// Default governance flags of every call, e.g. <c>{ ["pii"] = "mask" }</c> (PROTOCOL.md §5). Per-call flags in
    /// <c>ChatOptions.AdditionalProperties[TapPassChatKeys.Flags]</c> are merged over them; locks configured on the
    /// engine still win. Default empty (the engine's defaults apply). Validated when the client is created.
    /// </summary>
    public IDictionary<string, string> Flags { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Throw <see cref="BreakGlassActiveException"/> when an answer reports break-glass <c>observe</c>. Default false.</summary>
    public bool RespectBreakGlass { get; set; }

    /// <summary>Throw <see cref="RedactionAppliedException"/> when the prompt or the answer was masked. Default false.</summary>
    public bool RaiseOnRedaction { get; set; }
}
