using System.Net.ServerSentEvents;
using System.Text.Json;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>Reads answers as raw JSON, so the tests check the wire format itself.</summary>
internal static class Http
{
    public static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> Error(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        var body = await Json(response);
        return body.GetProperty("error");
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    public static async Task<List<string>> SseData(HttpResponseMessage response)
    {
        var data = new List<string>();
        await using var stream = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
        {
            data.Add(item.Data);
        }

        return data;
    }

    public static string? Str(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
