using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;

namespace TapPass.AspNetCore.Errors;

/// <summary>
/// The trace id of TapPass problem bodies is the framework's: its problem writers add one when the problem has none
/// (<c>Activity.Current?.Id ?? HttpContext.TraceIdentifier</c>), the minimal-API writer as <c>traceId</c> spelled by the
/// application's JSON naming policy (<c>trace_id</c> under snake_case), the MVC writer of <c>[ApiController]</c>
/// endpoints as <c>traceId</c>. TapPass therefore sets none before handing a problem to <c>IProblemDetailsService</c>
/// (a member of its own would sit next to the writer's whenever the spellings differ), and adds this one, spelled as
/// the minimal-API writer would, only when no writer accepted the request and it writes the problem itself.
/// </summary>
internal static class ProblemTraceId
{
    private const string DefaultName = "traceId";

    /// <summary>The member name under the application's <see cref="HttpJsonOptions"/> (those the problem writer uses).</summary>
    public static string MemberName(HttpJsonOptions options) =>
        options.SerializerOptions.PropertyNamingPolicy?.ConvertName(DefaultName) ?? DefaultName;

    /// <summary>Sets the trace id of the current request on <paramref name="problem"/>.</summary>
    public static void Add(ProblemDetails problem, string memberName, HttpContext context) =>
        problem.Extensions[memberName] = Activity.Current?.Id ?? context.TraceIdentifier;
}
