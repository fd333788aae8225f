namespace TapPass;

/// <summary>Data classification of a request, lowest first.</summary>
public enum Classification
{
    /// <summary>Nothing sensitive found.</summary>
    Public = 0,

    /// <summary>Internal markers or domains.</summary>
    Internal = 1,

    /// <summary>Personal, customer or financial data.</summary>
    Confidential = 2,

    /// <summary>Credentials and regulated identifiers.</summary>
    Restricted = 3,
}

/// <summary>Wire names of <see cref="Classification"/> (<c>PUBLIC</c>, …).</summary>
public static class ClassificationNames
{
    /// <summary>The upper-case wire name.</summary>
    /// <param name="value">Classification.</param>
    public static string ToWire(this Classification value) => value switch
    {
        Classification.Internal => "INTERNAL",
        Classification.Confidential => "CONFIDENTIAL",
        Classification.Restricted => "RESTRICTED",
        _ => "PUBLIC",
    };

    /// <summary>Parses a wire name, case-insensitively.</summary>
    /// <param name="value">Wire name.</param>
    /// <param name="result">The classification.</param>
    public static bool TryParse(string? value, out Classification result)
    {
        switch (value?.Trim().ToUpperInvariant())
        {
            case "PUBLIC": result = Classification.Public; return true;
            case "INTERNAL": result = Classification.Internal; return true;
            case "CONFIDENTIAL": result = Classification.Confidential; return true;
            case "RESTRICTED": result = Classification.Restricted; return true;
            default: result = Classification.Public; return false;
        }
    }
}
