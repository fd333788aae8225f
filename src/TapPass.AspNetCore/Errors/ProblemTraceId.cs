using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;

namespace TapPass.AspNetCore.Errors;

/// <summary>
/// The trace id member of TapPass problem bodies, named and valued as ASP.NET Core's own: its problem writer adds
/// <c>traceId</c> spelled by the application's JSON naming policy (<c>trace_id</c> under snake_case) with
/// <c>Activity.Current?.Id ?? HttpContext.TraceIdentifier</c>, unless the problem already has that member. TapPass sets
/// that same member, so a body carries exactly one trace id whichever writer runs, the fallback
/// (<c>TypedResults.Problem</c>, which adds none) included, and it is spelled like the application's other problems.
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
