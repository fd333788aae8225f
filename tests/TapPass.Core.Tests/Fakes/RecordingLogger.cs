using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TapPass.Core.Tests.Fakes;

/// <summary>A logger factory that keeps every formatted message, its event name and its exception text.</summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    /// <summary>Everything written: messages, structured values, exception messages.</summary>
    public string AllText => string.Join("\n", Entries.Select(e => e.Message + " | " + e.State + " | " + e.Exception));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public sealed record LogEntry(string Category, LogLevel Level, string EventName, string Message, string State, string? Exception);

    private sealed class Logger(RecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> kvs ? string.Join(";", kvs.Select(kv => kv.Key + "=" + kv.Value)) : "";
            owner._entries.Enqueue(new LogEntry(category, logLevel, eventId.Name ?? "", formatter(state, exception), values, exception?.ToString()));
        }
    }
}
