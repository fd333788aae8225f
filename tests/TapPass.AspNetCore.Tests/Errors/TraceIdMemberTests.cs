using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace TapPass.AspNetCore.Tests.Errors;

/// <summary>
/// A TapPass problem body carries exactly one trace id, named as ASP.NET Core names it in its own problem bodies:
/// <c>traceId</c>, spelled by the application's JSON naming policy (<c>trace_id</c> under snake_case).
/// </summary>
public sealed class TraceIdMemberTests
{
    private static Task<TestHost> StartAsync(bool snakeCase) => TestHost.StartAsync(
        app =>
        {
            app.MapGet("/block", IResult () => throw new PolicyBlockException("blocked") { BlockedBy = "detect_pii" });
            app.MapGet("/framework", () => Results.Problem(statusCode: StatusCodes.Status409Conflict));
        },
        services: b =>
        {
            if (snakeCase)
            {
                b.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
            }
        });

    /// <summary>The members of <paramref name="body"/> that name a trace id, however spelled.</summary>
    internal static List<string> TraceIdMembers(JsonElement body) =>
        body.EnumerateObject()
            .Select(p => p.Name)
            .Where(n => string.Equals(n.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal), "traceid", StringComparison.OrdinalIgnoreCase))
            .ToList();

    private static async Task<JsonElement> BodyAsync(TestHost host, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await host.Client.SendAsync(request);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        return await TestHost.ReadJsonAsync(response);
    }

    [Theory]
    [InlineData(false, "traceId")]
    [InlineData(true, "trace_id")]
    public async Task PolicyBlock403_HasExactlyOneTraceId_SpelledLikeTheFrameworksOwnProblems(bool snakeCase, string expected)
    {
        await using var host = await StartAsync(snakeCase);

        var block = await BodyAsync(host, "/block");
        var framework = await BodyAsync(host, "/framework");

        TraceIdMembers(block).Should().Equal(expected);
        TraceIdMembers(framework).Should().Equal(expected);
        block.GetProperty(expected).GetString().Should().StartWith("00-", "the W3C id of the request's activity");
        block.GetProperty("blocked_by").GetString().Should().Be("detect_pii", "TapPass's own members keep their names");
    }

    [Theory]
    [InlineData(false, "traceId")]
    [InlineData(true, "trace_id")]
    public async Task InvalidSessionHeader400_HasExactlyOneTraceId(bool snakeCase, string expected)
    {
        await using var host = await StartAsync(snakeCase);

        var body = await BodyAsync(host, "/block", ("X-TapPass-Session-Id", "not a valid id"));

        body.GetProperty("status").GetInt32().Should().Be(StatusCodes.Status400BadRequest);
        TraceIdMembers(body).Should().Equal(expected);
    }

    [Theory]
    [InlineData(false, "traceId")]
    [InlineData(true, "trace_id")]
    public async Task PolicyBlock403_WhenNoProblemWriterAcceptsTheRequest_StillHasExactlyOneTraceId(bool snakeCase, string expected)
    {
        await using var host = await StartAsync(snakeCase);

        var body = await BodyAsync(host, "/block", ("Accept", "text/plain"));

        body.GetProperty("status").GetInt32().Should().Be(StatusCodes.Status403Forbidden);
        TraceIdMembers(body).Should().Equal(expected);
    }
}
