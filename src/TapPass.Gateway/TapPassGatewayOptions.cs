namespace TapPass.Gateway;

/// <summary>Settings of the TapPass gateway endpoints (<see cref="Microsoft.AspNetCore.Builder.TapPassGatewayEndpointRouteBuilderExtensions.MapTapPassGateway"/>).</summary>
public sealed class TapPassGatewayOptions
{
    /// <summary>The API generation this gateway implements (PROTOCOL.md §9).</summary>
    public const string ApiVersion = "0.6.0";

    /// <summary>Largest accepted request body in bytes; larger bodies are answered 413 before they are read in full. Default 5 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Most events listed on the HTML audit page of one session. Default 1000.</summary>
    public int MaxAuditPageEvents { get; set; } = 1000;
}
