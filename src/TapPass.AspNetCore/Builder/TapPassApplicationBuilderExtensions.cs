using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.AspNetCore;
using TapPass.AspNetCore.Errors;
using TapPass.AspNetCore.Sessions;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the TapPass middleware to the request pipeline.</summary>
public static class TapPassApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the TapPass session middleware: every request runs in its own ambient <c>TapPassSession</c> (joined from
    /// <c>X-TapPass-Session-Id</c> / <c>X-TapPass-Agent-Uuid</c> / <c>X-TapPass-Task-Id</c>, or opened for it), the
    /// session ids are echoed on the response, and governance decisions thrown by later middleware and endpoints
    /// become ProblemDetails. Place it before the endpoints it governs (after <c>UseRouting</c> when used).
    /// </summary>
    /// <param name="app">The application.</param>
    /// <param name="configure">Sets the options of this middleware; defaults come from <see cref="TapPassOptions"/>.</param>
    /// <returns>The application, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>AddTapPass()</c> was not called.</exception>
    public static IApplicationBuilder UseTapPass(this IApplicationBuilder app, Action<TapPassMiddlewareOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        if (services.GetService<TapPassMarkerService>() is null)
        {
            throw new InvalidOperationException(
                "Unable to find the TapPass services. Call builder.Services.AddTapPass() in Program.cs (before builder.Build()) " +
                "to register them, then app.UseTapPass().");
        }

        var tapPassOptions = services.GetRequiredService<IOptions<TapPassOptions>>().Value;
        var options = new TapPassMiddlewareOptions { AutoOpenSession = tapPassOptions.AutoOpenSession };
        configure?.Invoke(options);

        var lifecycle = services.GetRequiredService<ITapPassSessionLifecycle>();
        var handler = services.GetRequiredService<TapPassExceptionHandler>();
        var problemDetails = services.GetRequiredService<IProblemDetailsService>();
        var logger = services.GetRequiredService<ILogger<TapPassMiddleware>>();
        return app.Use(next => new TapPassMiddleware(next, options, lifecycle, handler, problemDetails, logger).InvokeAsync);
    }
}
