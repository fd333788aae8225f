using System.Text.Json.Serialization;
using MinimalApi;
using TapPass;
using TapPass.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

// TapPass options come from the "TapPass" section (appsettings.json) or TAPPASS_* variables; code can add to them.
builder.Services.AddTapPass(options =>
    options.MapDecision<PolicyBlockException>(customize: (_, problem, _) =>
        problem.Extensions["help"] = "https://tappass.dev/docs/runtime-governance"));

// No gateway configured: run the governance engine in-process (same pipeline, same audit trail, no hop).
// Set TapPass:Url (or TAPPASS_URL) and TapPass:ApiKey to use a TapPass server instead.
if (string.IsNullOrEmpty(builder.Configuration["TapPass:Url"]) && string.IsNullOrEmpty(builder.Configuration["TAPPASS_URL"]))
{
    builder.Services.AddTapPassEmbeddedGateway();
}

builder.Services.AddSingleton<Outbox>();
builder.Services.AddScoped(sp => new EmailTool(
    sp.GetService<TapPass.Transport.ITapPassTransport>()
        ?? throw new TapPassConfigException("The send-email sample governs tools through the embedded gateway; with TapPass:Url set, use Govern() from TapPass.Core."),
    sp.GetRequiredService<Outbox>(),
    sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<TapPassOptions>>(),
    sp.GetRequiredService<TimeProvider>()));
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, SampleJsonContext.Default);
});

var app = builder.Build();

app.UseExceptionHandler();

// Every request runs in a TapPass session: the one named by X-TapPass-Session-Id, or one the gateway opens on the
// first governed call; its id comes back in the X-TapPass-Session-Id response header.
app.UseTapPass(o => o.AutoOpenSession = false);

app.MapPost("/chat", async (ChatRequest request, ITapPassAgent agent, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Prompt) || request.Prompt.Length > 16_000)
    {
        return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "A prompt of 1-16000 characters is required.");
    }

    var options = new TapPassChatOptions();
    foreach (var (key, value) in GovernanceFlags.Parse(request.Flags)) // invalid flags → 400 invalid-flags problem
    {
        options.Flags[key] = value;
    }

    // Blocks, approvals, break-glass… are thrown here and answered by UseTapPass as typed ProblemDetails.
    var response = await agent.ChatAsync(request.Prompt, options, cancellationToken);
    var session = TapPassSession.Current;
    return Results.Ok(new ChatAnswer(
        response.Content,
        response.Pipeline.Classification.ToWire(),
        response.AuditUrl ?? session?.AuditUrl,
        response.SessionId ?? session?.SessionId));
});

app.MapPost("/tools/send-email", async (SendEmailRequest email, EmailTool tool, CancellationToken cancellationToken) =>
    Results.Ok(await tool.SendAsync(email, cancellationToken)));

app.MapGet("/session", () => TapPassSession.Current is { } s
    ? Results.Ok(new SessionInfo(s.SessionId, s.AgentUuid, s.TaskId, s.AuditUrl))
    : Results.NoContent());

app.Run();

/// <summary>Entry point, visible to WebApplicationFactory.</summary>
public partial class Program;

namespace MinimalApi
{
    /// <summary>Body of <c>POST /chat</c>.</summary>
    public sealed record ChatRequest(string Prompt, string? Flags);

    /// <summary>Answer of <c>POST /chat</c>.</summary>
    public sealed record ChatAnswer(string Content, string Classification, string? AuditUrl, string? SessionId);

    /// <summary>Answer of <c>GET /session</c>.</summary>
    public sealed record SessionInfo(string? SessionId, string? AgentUuid, string? TaskId, string? AuditUrl);

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
    [JsonSerializable(typeof(ChatRequest))]
    [JsonSerializable(typeof(ChatAnswer))]
    [JsonSerializable(typeof(SessionInfo))]
    [JsonSerializable(typeof(SendEmailRequest))]
    [JsonSerializable(typeof(SendEmailResult))]
    internal sealed partial class SampleJsonContext : JsonSerializerContext;
}
