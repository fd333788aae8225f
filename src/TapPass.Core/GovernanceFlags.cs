using System.Collections;
using System.Globalization;
using System.Text;

namespace TapPass;

/// <summary>
/// Validated governance flags (PROTOCOL.md §5): <c>key=value</c> pairs with lower-case keys and values, parsed from
/// the <c>X-TapPass-Flags</c> header syntax (<c>"mode=observe, pii=mask"</c>). Immutable. Unknown keys or values are
/// errors, never ignored.
/// </summary>
public sealed class GovernanceFlags : IReadOnlyDictionary<string, string>, IEquatable<GovernanceFlags>
{
    /// <summary>Longest header value accepted.</summary>
    public const int MaxHeaderLength = 2048;

    private const int MaxItems = 32;
    private const int MaxParameters = 16;
    private const int MaxParameterLength = 128;

    private static readonly Dictionary<string, string[]> Schema = new(StringComparer.Ordinal)
    {
        ["mode"] = ["observe", "warn", "enforce", "lockdown"],
        ["pii"] = ["mask", "block", "flag", "off"],
        ["secrets"] = ["redact", "block", "flag"],
        ["email"] = ["allow", "block", "internal:<domain>", "mirror:<address>"],
        ["tools"] = ["log", "block", "allowlist:<tool>[:<tool>…]", "denylist:<tool>[:<tool>…]"],
        ["files"] = ["allow", "read_only", "project", "block"],
        ["db"] = ["safe_write", "read_only", "block"],
        ["budget"] = ["unlimited", "dev", "standard", "custom:<per_call_usd>:<per_session_usd>"],
    };

    private static readonly string[] KeyOrder = ["mode", "pii", "secrets", "email", "tools", "files", "db", "budget"];

    private readonly SortedDictionary<string, string> _values;

    private GovernanceFlags(SortedDictionary<string, string> values) => _values = values;

    /// <summary>No flags set.</summary>
    public static GovernanceFlags Empty { get; } = new(new SortedDictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The protocol defaults (PROTOCOL.md §5), applied when nothing else sets a flag.</summary>
    public static GovernanceFlags Defaults { get; } = Parse("mode=enforce, pii=off, secrets=redact, email=allow, tools=log, files=allow, db=safe_write, budget=unlimited");

    /// <summary>The known flag names.</summary>
    public static IReadOnlyList<string> KnownKeys => KeyOrder;

    /// <summary>Allowed values of a flag, as documented (parameters in angle brackets).</summary>
    /// <param name="key">Flag name.</param>
    public static IReadOnlyList<string> AllowedValues(string key) =>
        Schema.TryGetValue(key.ToLowerInvariant(), out var v) ? v : [];

    /// <inheritdoc />
    public string this[string key] => _values[key.ToLowerInvariant()];

    /// <inheritdoc />
    public IEnumerable<string> Keys => _values.Keys;

    /// <inheritdoc />
    public IEnumerable<string> Values => _values.Values;

    /// <inheritdoc />
    public int Count => _values.Count;

    /// <summary>Parses the header syntax. Throws <see cref="TapPassConfigException"/> naming the bad flag.</summary>
    /// <param name="value">e.g. <c>"mode=observe, pii=mask"</c>; null or blank gives <see cref="Empty"/>.</param>
    public static GovernanceFlags Parse(string? value)
    {
        if (TryParse(value, out var flags, out var error))
        {
            return flags;
        }

        throw error!.ToException();
    }

    /// <summary>Parses the header syntax without throwing.</summary>
    /// <param name="value">Header value.</param>
    /// <param name="flags">The flags, on success.</param>
    /// <param name="error">What is wrong, on failure.</param>
    public static bool TryParse(string? value, out GovernanceFlags flags, out FlagError? error)
    {
        flags = Empty;
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        if (value.Length > MaxHeaderLength)
        {
            error = new FlagError("flags", null, [], $"Flags are longer than {MaxHeaderLength} characters.");
            return false;
        }

        var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length > MaxItems)
        {
            error = new FlagError("flags", null, [], $"More than {MaxItems} flags.");
            return false;
        }

        var pairs = new List<KeyValuePair<string, string>>(items.Length);
        foreach (var item in items)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                var key = eq < 0 ? item : "";
                error = new FlagError(Truncate(key), null, KeyOrder, $"Flag '{Truncate(item)}' is not of the form key=value.");
                return false;
            }

            pairs.Add(new(item[..eq].Trim(), item[(eq + 1)..].Trim()));
        }

        return TryCreate(pairs, out flags, out error);
    }

    /// <summary>Validates key/value pairs (for example <c>TapPassAgentOptions.Flags</c>). Later duplicates win.</summary>
    /// <param name="pairs">Flags.</param>
    public static GovernanceFlags From(IEnumerable<KeyValuePair<string, string>>? pairs)
    {
        if (pairs is null)
        {
            return Empty;
        }

        if (TryCreate(pairs, out var flags, out var error))
        {
            return flags;
        }

        throw error!.ToException();
    }

    /// <summary>Validates key/value pairs without throwing.</summary>
    /// <param name="pairs">Flags.</param>
    /// <param name="flags">The flags, on success.</param>
    /// <param name="error">What is wrong, on failure.</param>
    public static bool TryCreate(IEnumerable<KeyValuePair<string, string>> pairs, out GovernanceFlags flags, out FlagError? error)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        flags = Empty;
        error = null;
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var (rawKey, rawValue) in pairs)
        {
            if (++count > MaxItems)
            {
                error = new FlagError("flags", null, [], $"More than {MaxItems} flags.");
                return false;
            }

            var key = (rawKey ?? "").Trim().ToLowerInvariant();
            if (!Schema.TryGetValue(key, out var allowed))
            {
                error = new FlagError(Truncate(key), Truncate(rawValue), KeyOrder, $"Unknown governance flag '{Truncate(key)}'. Known flags: {string.Join(", ", KeyOrder)}.");
                return false;
            }

            var normalized = NormalizeValue(key, (rawValue ?? "").Trim());
            if (normalized is null)
            {
                error = new FlagError(key, Truncate(rawValue), allowed, $"Invalid value '{Truncate(rawValue)}' for flag '{key}'. Allowed: {string.Join(", ", allowed)}.");
                return false;
            }

            values[key] = normalized;
        }

        flags = values.Count == 0 ? Empty : new GovernanceFlags(values);
        return true;
    }

    /// <summary>Returns these flags overridden by <paramref name="overrides"/> (its values win).</summary>
    /// <param name="overrides">Stronger flags.</param>
    public GovernanceFlags Merge(GovernanceFlags? overrides)
    {
        if (overrides is null || overrides.Count == 0)
        {
            return this;
        }

        if (Count == 0)
        {
            return overrides;
        }

        var merged = new SortedDictionary<string, string>(_values, StringComparer.Ordinal);
        foreach (var (k, v) in overrides._values)
        {
            merged[k] = v;
        }

        return new GovernanceFlags(merged);
    }

    /// <summary>Returns a copy with one flag set (validated).</summary>
    /// <param name="key">Flag.</param>
    /// <param name="value">Value.</param>
    public GovernanceFlags With(string key, string value) => Merge(From([new(key, value)]));

    /// <summary>Gets a flag's value.</summary>
    /// <param name="key">Flag.</param>
    /// <param name="value">Value.</param>
    public bool TryGetValue(string key, out string value)
    {
        if (_values.TryGetValue(key.ToLowerInvariant(), out var v))
        {
            value = v;
            return true;
        }

        value = "";
        return false;
    }

    /// <inheritdoc />
    public bool ContainsKey(string key) => _values.ContainsKey(key.ToLowerInvariant());

    /// <summary>The header form, in the documented key order: <c>mode=observe, pii=mask</c>.</summary>
    public string ToHeaderValue()
    {
        if (_values.Count == 0)
        {
            return "";
        }

        var sb = new StringBuilder();
        foreach (var key in KeyOrder)
        {
            if (_values.TryGetValue(key, out var v))
            {
                if (sb.Length > 0)
                {
                    sb.Append(", ");
                }

                sb.Append(key).Append('=').Append(v);
            }
        }

        return sb.ToString();
    }

    /// <summary>A copy as a plain dictionary.</summary>
    public Dictionary<string, string> ToDictionary() => new(_values, StringComparer.Ordinal);

    /// <inheritdoc />
    public override string ToString() => ToHeaderValue();

    /// <summary>True when both hold the same flags with the same (normalised) values.</summary>
    /// <param name="other">Other flags.</param>
    public bool Equals(GovernanceFlags? other) =>
        other is not null && (ReferenceEquals(this, other) || (_values.Count == other._values.Count && _values.All(kv => other._values.TryGetValue(kv.Key, out var v) && v == kv.Value)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GovernanceFlags other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (k, v) in _values)
        {
            hash.Add(k, StringComparer.Ordinal);
            hash.Add(v, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static string? NormalizeValue(string key, string value)
    {
        if (value.Length == 0 || value.Length > 512)
        {
            return null;
        }

        var parts = value.Split(':');
        if (parts.Length > MaxParameters + 1)
        {
            return null;
        }

        var head = parts[0].Trim().ToLowerInvariant();
        var parameters = parts.Skip(1).Select(p => p.Trim()).ToArray();
        if (parameters.Any(p => p.Length == 0 || p.Length > MaxParameterLength))
        {
            return null;
        }

        switch (key, head)
        {
            case ("email", "internal"):
                return parameters.Length == 1 && IsDomain(parameters[0]) ? "internal:" + parameters[0].ToLowerInvariant() : null;
            case ("email", "mirror"):
                return parameters.Length == 1 && IsEmail(parameters[0]) ? "mirror:" + parameters[0].ToLowerInvariant() : null;
            case ("tools", "allowlist" or "denylist"):
                return parameters.Length >= 1 && parameters.All(IsToolPattern) ? head + ":" + string.Join(':', parameters) : null;
            case ("budget", "custom"):
                return parameters.Length == 2 && IsUsd(parameters[0]) && IsUsd(parameters[1])
                    ? $"custom:{parameters[0]}:{parameters[1]}"
                    : null;
        }

        if (parameters.Length != 0)
        {
            return null;
        }

        return Schema[key].Contains(head, StringComparer.Ordinal) ? head : null;
    }

    private static bool IsUsd(string s) =>
        decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d) && d > 0 && d < 1_000_000;

    private static bool IsToolPattern(string s) => s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '*' or '/');

    private static bool IsDomain(string s)
    {
        var labels = s.Split('.');
        return labels.Length >= 2 && s.Length <= 253 &&
               labels.All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && l[0] != '-' && l[^1] != '-') &&
               labels[^1].All(char.IsAsciiLetter);
    }

    private static bool IsEmail(string s)
    {
        var at = s.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == s.LastIndexOf('@') && s.Length <= 254 &&
               s[..at].All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+') &&
               IsDomain(s[(at + 1)..]);
    }

    private static string Truncate(string? s) => s is null ? "" : s.Length <= 64 ? s : s[..64] + "…";
}

/// <summary>Why a flag string or pair is invalid.</summary>
/// <param name="Flag">The flag name (or <c>flags</c> for the whole value).</param>
/// <param name="Value">The rejected value, truncated.</param>
/// <param name="Allowed">Documented allowed values.</param>
/// <param name="Message">Human-readable message.</param>
public sealed record FlagError(string Flag, string? Value, IReadOnlyList<string> Allowed, string Message)
{
    /// <summary>The matching exception.</summary>
    public TapPassConfigException ToException() =>
        new(Message, setting: "Flags") { Flag = Flag, Value = Value, Allowed = Allowed };
}
