using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using MinimalApi;
using TapPass;
using TapPass.AspNetCore;
using TapPass.Governance;
using TapPass.Protocol;
using TapPass.Transport;

var builder = WebApplication.CreateBuilder(args);

// TapPass options come from the "TapPass" section (appsettings.json) or TAPPASS_* variables; code can add to them.
builder.Services.AddTapPass(options =>
    options.MapDecision<PolicyBlockException>(customize: (_, problem, _) =>
        problem.Extensions["help"] = "https://tappass.dev/docs/runtime-governance"));

// No gateway configured: run the governance engine in-process (same pipeline, same audit trail, no hop), with the
// policies of the "TapPass:Gateway" section of appsettings.json (approval rules, minimum tiers, registered tools).
// Set TapPass:Url (or TAPPASS_URL) and TapPass:ApiKey to use a TapPass server instead: the code below is the same.
var embedded = string.IsNullOrEmpty(builder.Configuration["TapPass:Url"]) && string.IsNullOrEmpty(builder.Configuration["TAPPASS_URL"]);
if (embedded)
{
    builder.Services.AddTapPassEmbeddedGateway(builder.Configuration);
}

builder.Services.AddSingleton<Outbox>();
builder.Services.AddSingleton<Ledger>();
builder.Services.AddSingleton<RecordStore>();
builder.Services.AddSingleton<DocumentStore>();
builder.Services.AddSingleton<SampleTools>();
builder.Services.AddScoped<GovernedTools>();
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
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
        response.SessionId ?? session?.SessionId,
        response.Pipeline.BreakGlass?.Level));
});

// Governed tools: the gateway decides each call before the tool runs; refusals are thrown as governance decisions
// and answered by UseTapPass as ProblemDetails (403, 428, 422, 503…).
app.MapPost("/tools/send-email", async (SendEmailRequest r, GovernedTools tools, CancellationToken cancellationToken) =>
    Results.Ok(await tools.SendEmail(r.To, r.Subject, r.Body, cancellationToken)));

// A transfer over 1000 EUR waits for a human (approval rule "large-transfer"): the first call answers 428 with a
// resume token; once approved, the identical call with X-TapPass-Resume-Token (in the same session) runs it, once.
app.MapPost("/tools/transfer-funds", async (
    TransferFundsRequest r,
    [FromHeader(Name = TapPassHeaders.ResumeToken)] string? resumeToken,
    GovernedTools tools,
    CancellationToken cancellationToken) =>
{
    var transfer = tools.TransferFunds;
    if (resumeToken is not null)
    {
        if (resumeToken.Length is 0 or > 512 || resumeToken.Any(c => c is < '!' or > '~'))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"{TapPassHeaders.ResumeToken} must be 1-512 printable ASCII characters.");
        }

        transfer = transfer.WithResumeToken(resumeToken);
    }

    return Results.Ok(await transfer(r.Account, r.Amount, cancellationToken));
});

app.MapPost("/tools/delete-records", async (DeleteRecordsRequest r, GovernedTools tools, CancellationToken cancellationToken) =>
    Results.Ok(await tools.DeleteRecords(r.Table, cancellationToken)));

app.MapPost("/tools/read-file", async (ReadFileRequest r, GovernedTools tools, CancellationToken cancellationToken) =>
    Results.Ok(await tools.ReadFile(r.Path, cancellationToken)));

app.MapGet("/session", () => TapPassSession.Current is { } s
    ? Results.Ok(new SessionInfo(s.SessionId, s.AgentUuid, s.TaskId, s.AuditUrl))
    : Results.NoContent());

if (embedded)
{
    // The public key of capability tokens: a service a tool calls can verify the token offline with it.
    app.MapGet("/.well-known/jwks.json", (TapPassEmbeddedOperator engine) => Results.Text(engine.GetJwks(), "application/json"));

    if (app.Environment.IsDevelopment())
    {
        OperatorEndpoints.Map(app);
    }
}

app.Run();

/// <summary>Entry point, visible to WebApplicationFactory.</summary>
public partial class Program;

namespace MinimalApi
{
    /// <summary>The sample's tools as the agent may use them: each wrapped once per request with <c>agent.Govern(...)</c>.</summary>
    public sealed class GovernedTools(ITapPassAgent agent, SampleTools tools)
    {
        /// <summary>Governed <c>send_email(to, subject, body)</c>.</summary>
        public Func<string, string, string, CancellationToken, Task<EmailReceipt>> SendEmail { get; } = agent.Govern(tools.SendEmailAsync);

        /// <summary>Governed <c>transfer_funds(account, amount)</c>.</summary>
        public Func<string, decimal, CancellationToken, Task<TransferReceipt>> TransferFunds { get; } = agent.Govern(tools.TransferFundsAsync);

        /// <summary>Governed <c>delete_records(table)</c>.</summary>
        public Func<string, CancellationToken, Task<DeleteReceipt>> DeleteRecords { get; } = agent.Govern(tools.DeleteRecordsAsync);

        /// <summary>Governed <c>read_file(path)</c>.</summary>
        public Func<string, CancellationToken, Task<FileContent>> ReadFile { get; } = agent.Govern(tools.ReadFileAsync);
    }

    /// <summary>
    /// Operator endpoints of the demo, on the in-process engine (<see cref="TapPassEmbeddedOperator"/>): decide approvals,
    /// declare and end break-glass, read a session's audit trail. They have NO authentication, so the sample maps them only
    /// in the Development environment; a real application puts its own authorization in front of them (or uses a TapPass
    /// server, whose control routes require approver and admin keys).
    /// </summary>
    internal static class OperatorEndpoints
    {
        public static void Map(WebApplication app)
        {
            // approval_url of a 428 points here.
            app.MapGet("/approvals/{id}", async (string id, TapPassEmbeddedOperator engine, CancellationToken cancellationToken) =>
                Reply(await engine.GetApprovalAsync(id, cancellationToken)));
            app.MapPost("/approvals/{id}/approve", (string id, DecisionRequest? body, TapPassEmbeddedOperator engine, CancellationToken cancellationToken) =>
                DecideAsync(engine, id, "approve", body?.Reason, cancellationToken));
            app.MapPost("/approvals/{id}/deny", (string id, DecisionRequest? body, TapPassEmbeddedOperator engine, CancellationToken cancellationToken) =>
                DecideAsync(engine, id, "deny", body?.Reason, cancellationToken));

            app.MapPost("/admin/break-glass", async (BreakGlassRequest r, TapPassEmbeddedOperator engine, CancellationToken cancellationToken) =>
            {
                TimeSpan duration;
                try
                {
                    duration = System.Xml.XmlConvert.ToTimeSpan(r.Duration ?? "PT15M");
                }
                catch (FormatException)
                {
                    return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "duration must be an ISO 8601 duration such as PT15M.");
                }

                return Reply(await engine.DeclareBreakGlassAsync(r.Level ?? "", duration, r.Reason ?? "", cancellationToken));
            });
            app.MapDelete("/admin/break-glass", async (TapPassEmbeddedOperator engine, CancellationToken cancellationToken) =>
                Reply(await engine.EndBreakGlassAsync(cancellationToken)));

            // audit_url of every answer points here: the session's audit events (metadata only, never prompt text).
            app.MapGet("/audit/sessions/{id}", async (string id, TapPassEmbeddedOperator engine, CancellationToken cancellationToken) =>
            {
                if (!TapPassSession.IsWellFormedId(id))
                {
                    return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such session.");
                }

                var page = await engine.ReadAuditAsync(new TapPassAuditFilter { SessionId = id, Limit = TapPassEmbeddedOperator.MaxAuditPageSize }, cancellationToken);
                return Results.Ok(new SessionAudit(id, [.. page.Entries.Select(e => e.Event)], page.NextCursor is not null));
            });
        }

        private static async Task<IResult> DecideAsync(TapPassEmbeddedOperator engine, string id, string decision, string? reason, CancellationToken cancellationToken) =>
            Reply(await engine.DecideApprovalAsync(id, new ApprovalDecisionRequest { Decision = decision, Reason = reason }, cancellationToken));

        private static IResult Reply<T>(TapPassReply<T> reply)
            where T : class =>
            reply.IsSuccess
                ? Results.Ok(reply.Value)
                : Results.Problem(statusCode: reply.StatusCode, title: reply.Error?.Message, extensions: new Dictionary<string, object?> { ["error"] = reply.Error?.Type });
    }

    /// <summary>Body of <c>POST /chat</c>.</summary>
    public sealed record ChatRequest(string Prompt, string? Flags);

    /// <summary>Answer of <c>POST /chat</c>.</summary>
    public sealed record ChatAnswer(string Content, string Classification, string? AuditUrl, string? SessionId, string? BreakGlass);

    /// <summary>Answer of <c>GET /session</c>.</summary>
    public sealed record SessionInfo(string? SessionId, string? AgentUuid, string? TaskId, string? AuditUrl);

    /// <summary>Body of <c>POST /tools/send-email</c>.</summary>
    public sealed record SendEmailRequest(string To, string Subject, string Body);

    /// <summary>Body of <c>POST /tools/transfer-funds</c>.</summary>
    public sealed record TransferFundsRequest(string Account, decimal Amount);

    /// <summary>Body of <c>POST /tools/delete-records</c>.</summary>
    public sealed record DeleteRecordsRequest(string Table);

    /// <summary>Body of <c>POST /tools/read-file</c>.</summary>
    public sealed record ReadFileRequest(string Path);

    /// <summary>Optional body of <c>POST /approvals/{id}/approve|deny</c>.</summary>
    public sealed record DecisionRequest(string? Reason);

    /// <summary>Body of <c>POST /admin/break-glass</c>.</summary>
    public sealed record BreakGlassRequest(string? Level, string? Duration, string? Reason);

    /// <summary>Answer of <c>GET /audit/sessions/{id}</c>.</summary>
    public sealed record SessionAudit(string SessionId, IReadOnlyList<JsonElement> Events, bool Truncated);

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(ChatRequest))]
    [JsonSerializable(typeof(ChatAnswer))]
    [JsonSerializable(typeof(SessionInfo))]
    [JsonSerializable(typeof(SendEmailRequest))]
    [JsonSerializable(typeof(TransferFundsRequest))]
    [JsonSerializable(typeof(DeleteRecordsRequest))]
    [JsonSerializable(typeof(ReadFileRequest))]
    [JsonSerializable(typeof(EmailReceipt))]
    [JsonSerializable(typeof(TransferReceipt))]
    [JsonSerializable(typeof(DeleteReceipt))]
    [JsonSerializable(typeof(FileContent))]
    [JsonSerializable(typeof(DecisionRequest))]
    [JsonSerializable(typeof(BreakGlassRequest))]
    [JsonSerializable(typeof(SessionAudit))]
    [JsonSerializable(typeof(ApprovalInfo))]
    [JsonSerializable(typeof(BreakGlassInfo))]
    internal sealed partial class SampleJsonContext : JsonSerializerContext;
}
