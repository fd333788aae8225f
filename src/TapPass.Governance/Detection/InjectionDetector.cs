using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using P = TapPass.Governance.Detection.InjectionPatterns;

namespace TapPass.Governance.Detection;

/// <summary>Options of <see cref="InjectionDetector"/>.</summary>
internal sealed class InjectionDetectorOptions
{
    /// <summary>Default decision threshold.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Score at or above which a text is treated as an injection. Default 0.5; must be in (0, 1].</summary>
    public double Threshold { get; set; } = DefaultThreshold;

    /// <summary>
    /// Longest text scored, in UTF-16 code units (default 256 KiB). Longer texts are scored on their first and
    /// last halves of this budget, which bounds the work on hostile input.
    /// </summary>
    public int MaxScoredLength { get; set; } = 256 * 1024;

    /// <summary>Most encoded runs (base64, hex) decoded and rescored per text. Default 8.</summary>
    public int MaxDecodedCandidates { get; set; } = 8;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (!(Threshold > 0 && Threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "Threshold must be in (0, 1].");
        if (MaxScoredLength < 1024) throw new ArgumentOutOfRangeException(nameof(MaxScoredLength), MaxScoredLength, "MaxScoredLength must be at least 1024.");
        if (MaxDecodedCandidates is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(MaxDecodedCandidates), MaxDecodedCandidates, "MaxDecodedCandidates must be in 0..64.");
    }
}

/// <summary>
/// Scores a text for prompt injection (0..1) from weighted signals — direct overrides, role hijacks and persona
/// jailbreaks, prompt/config/secret extraction, fake delimiters and role markers, instructions addressed to the AI
/// inside documents or tool output, unrequested actions (sending data out, payments, privilege changes, markdown
/// beacons), encoded or obfuscated instructions (base64, hex, reversed, rot13, leetspeak, spaced letters) and
/// overrides in Dutch, French, German, Spanish, Italian and Portuguese — combined as a noisy-OR. Discussion of
/// attacks (questions, quoted test strings) is damped. No model call; thread-safe.
/// </summary>
internal sealed class InjectionDetector : IInjectionDetector
{
    private enum Category
    {
        Override,
        Hijack,
        Extraction,
        Delimiter,
        Indirect,
        Payload,
        Framing,
        Weak,
    }

    private sealed record Rule(int Index, string Signal, Category Category, double Weight, Regex Regex, bool AtAnchor, string[] Anchors);

    private static readonly Rule[] Rules;

    /// <summary>Rules keyed by the first word of their anchors (case-insensitive).</summary>
    private static readonly FrozenDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> RulesByWord;

    /// <summary>Quick reject: first two (lower-case ASCII) letters of any anchor word.</summary>
    private static readonly bool[] FirstTwo = new bool[128 * 128];

    /// <summary>Anchors that do not start with a letter ("&lt;|", "![", "[INST]", "/.ssh/", "@assistant").</summary>
    private static readonly AnchorSet SymbolAnchors;
    private static readonly int[][] RulesBySymbol;

    private static readonly SearchValues<string> ReversedAnchors = SearchValues.Create(
        ["snoitcurtsni", "erongi", "dragersid", "tpmorp", "suoiverp", "kaerbliaj", "drowssap", "laever", "tegrof"],
        StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<string> Rot13Anchors = SearchValues.Create(
        ["vtaber", "vafgehpgvba", "qvfertneq", "cebzcg", "cerivbhf", "flfgrz", "erirny", "wnvyoernx", "cnffjbeq", "sbetrg"],
        StringComparison.OrdinalIgnoreCase);

    /// <summary>Words of discussion about attacks (damps the score); a trailing '*' marks a stem.</summary>
    private static readonly string[] MetaPhrases =
    [
        "prompt injection", "prompt-injection", "injection attack", "jailbreak*", "red team*", "red-team*", "redteam*",
        "adversarial prompt*", "adversarial attack*", "adversarial input*", "test string*", "test case*", "test prompt*",
        "filter", "filters", "detector*", "detection", "detect", "classifier*", "guardrail*", "security training",
        "security awareness", "security research", "security team", "security course", "security slide*",
        "awareness training", "training slide*", "example of", "examples of", "for example", "an example", "as an example",
        "historical*", "history of", "definition", "define", "explain", "explanation", "research*", "paper", "papers",
        "thesis", "phenomenon", "flagged", "flags", "false positive*", "waf", "the string", "keyword*", "signature*",
        "owasp", "mitigat*", "defense*", "defence*", "defend", "protect against", "recogni*", "phrase like",
        "phrases like", "attackers say", "attackers use", "attackers write", "realistic", "mean", "means", "meaning",
        "stand for", "used for", "purpose of", "tag", "tags", "special token*", "chatml", "chat template", "chat format",
        "template", "syntax",
    ];

    private static readonly SearchValues<string> MetaSearch = SearchValues.Create(
        MetaPhrases.Select(m => m.TrimEnd('*')).ToArray(), StringComparison.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, bool> MetaIsStem =
        MetaPhrases.ToFrozenDictionary(m => m.TrimEnd('*'), m => m.EndsWith('*'), StringComparer.OrdinalIgnoreCase);

    private readonly InjectionDetectorOptions _options;

    static InjectionDetector()
    {
        string[] overrideVerbs =
        [
            "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "override", "overrule", "bypass",
            "neglect", "dismiss", "stop following", "do not follow", "don't follow", "dont follow", "no longer follow",
            "never follow", "set aside", "pay no attention", "discard", "abandon", "drop", "skip", "erase", "delete",
            "clear", "cancel", "reset", "nullify", "scrap", "ditch", "omit", "suspend", "revoke", "throw", "put aside",
            "wipe",
        ];
        string[] showVerbs =
        [
            "show", "shows", "showing", "reveal", "revealing", "print", "printing", "repeat", "repeating", "output",
            "display", "tell", "give", "leak", "dump", "recite", "write", "spell out", "list", "share", "expose", "disclose",
            "return", "echo", "paste", "copy", "type out", "type", "read", "provide", "send", "translate", "summarize",
            "summarise", "encode", "what is", "what are", "what was", "what were", "cat", "respond", "reply", "answer",
            "include", "start", "quote", "reproduce",
        ];
        string[] aiNouns = ["assistant", "ai", "model", "bot", "llm", "agent"];

        var list = new List<Rule>();
        void At(string signal, Category c, double w, Regex r, params string[] anchors) => list.Add(new Rule(list.Count, signal, c, w, r, true, anchors));
        void Scan(string signal, Category c, double w, Regex r, params string[] anchors) => list.Add(new Rule(list.Count, signal, c, w, r, false, anchors));

        // Direct override.
        At("direct_override", Category.Override, 0.8, P.OverrideStrong(), overrideVerbs);
        At("direct_override", Category.Override, 0.8, P.OverrideFlexible(), [.. overrideVerbs, "cast aside", "toss"]);
        At("direct_override", Category.Override, 0.8, P.OverrideSystemMessage(), overrideVerbs);
        At("direct_override", Category.Override, 0.7, P.IgnoreAboveInstead(), "ignore", "disregard", "forget");
        At("direct_override", Category.Override, 0.45, P.IgnoreTheTask(), "ignore", "disregard", "forget", "skip", "abandon", "drop");
        At("direct_override", Category.Override, 0.3, P.AndInsteadAt(), "instead");
        At("direct_override", Category.Override, 0.8, P.ForgetEverythingTold(), "ignore", "disregard", "forget", "erase", "discard", "set aside", "put aside", "drop", "abandon", "throw", "wipe", "clear", "delete", "dismiss");
        At("direct_override", Category.Override, 0.55, P.ForgetEverythingAbove(), "ignore", "disregard", "forget", "erase", "discard");
        At("direct_override", Category.Override, 0.8, P.InstructionsVoid(), "all", "previous", "prior", "earlier", "above", "preceding", "old", "original", "your", "former", "existing", "initial", "system", "current");
        At("new_instructions", Category.Override, 0.35, P.NewRules(), "new", "updated", "revised", "real", "actual", "true", "secret", "override", "urgent", "priority", "your", "from now on", "from this", "starting now", "henceforth");
        At("system_override", Category.Override, 0.6, P.SystemOverride(), "system", "admin", "administrator", "developer", "emergency", "security", "root", "sudo", "master", "god", "maintenance", "override");
        At("direct_override", Category.Override, 0.6, P.IgnoreTheUser(), "ignore", "disregard", "forget", "bypass", "override");
        At("multilingual_override", Category.Override, 0.8, P.OverrideDutch(), "negeer", "negeren", "vergeet", "vergeten", "verwaarloos", "omzeil", "omzeilen");
        At("multilingual_override", Category.Override, 0.8, P.OverrideGerman(), "ignoriere", "ignorier", "ignorieren", "ignoriert", "missachte", "missachten", "vergiss", "vergesse", "vergessen", "vergesst", "übergehe", "umgehe", "verwirf", "überspringe");
        At("multilingual_override", Category.Override, 0.8, P.OverrideFrench(), "ignore", "ignorer", "ignorez", "oublie", "oublier", "oubliez", "néglige", "négligez", "outrepasse", "outrepassez", "contourne", "contournez", "ne tiens", "ne tenez", "ne tenir", "fais abstraction", "faites abstraction");
        At("multilingual_override", Category.Override, 0.8, P.OverrideSpanish(), "ignora", "ignore", "ignoren", "olvida", "olvide", "olviden", "omite", "omita", "descarta", "descarte", "no sigas", "no siga", "no sigan", "no obedezcas", "no obedezca", "haz caso");
        At("multilingual_override", Category.Override, 0.8, P.OverrideItalianPortuguese(), "ignore", "ignora", "ignorate", "dimentica", "dimenticate", "trascura", "esqueça", "esqueca", "esqueçam", "desconsidere", "desconsidera");

        // Role hijack, persona jailbreaks, lifting restrictions.
        At("role_hijack", Category.Hijack, 0.75, P.PersonaName(), "you are", "you're", "you will be", "you shall be", "pretend", "pretending", "act as", "acting as", "roleplay", "roleplaying", "role", "play", "playing", "become", "becoming", "called", "named", "known as", "going to");
        At("role_hijack", Category.Hijack, 0.5, P.PersonaGeneric(), "you are", "you're", "act as", "acting as", "pretend", "become", "play", "playing", "roleplay", "called", "named");
        At("role_hijack", Category.Hijack, 0.6, P.JailbreakTermsAt(), "do", "jailbroken", "jailbreak", "jailbreaked", "dan", "stan", "aim");
        At("developer_mode", Category.Hijack, 0.65, P.ModeSwitch(), "enter", "entering", "enable", "enabling", "activate", "activating", "simulate", "simulating", "emulate", "emulating", "start", "starting", "use", "using", "run", "running", "stay", "remain", "switch", "switching", "turn", "turning", "unlock", "go", "boot", "you", "now", "put", "engage", "initiate");
        At("no_restrictions", Category.Hijack, 0.6, P.AiWithoutLimitsAt(), "without", "with", "has", "have", "no", "not", "unbound", "free", "freed", "released", "liberated", "beyond", "ignoring");
        At("disable_safety", Category.Hijack, 0.6, P.SafetyDisabledClaimAt(), "safety", "content", "moderation", "guardrail", "guardrails", "restrictions", "filters", "censorship", "ethical");
        At("no_restrictions", Category.Hijack, 0.4, P.AnswerWithoutFiltersAt(), "answer", "respond", "reply", "proceed", "continue", "speak", "write", "talk", "output", "never", "don't", "dont", "do");
        At("role_hijack", Category.Hijack, 0.3, P.StayInCharacter(), "stay", "remain", "keep", "staying", "never", "don't", "dont", "do");
        At("no_restrictions", Category.Hijack, 0.35, P.ComplyWithEverything(), "comply", "answer", "fulfil", "fulfill", "obey", "execute", "carry", "do");
        At("role_hijack", Category.Hijack, 0.55, P.DeceasedRelative(), "act", "pretend", "roleplay", "role", "play", "behave", "respond", "speak");
        At("role_hijack", Category.Hijack, 0.6, P.UnrestrictedPersona(), "you are", "you're", "unfiltered", "uncensored", "unrestricted", "amoral", "unaligned", "jailbroken");
        At("role_hijack", Category.Hijack, 0.35, P.AmoralTraitsAt(), "machiavellian", "no", "strives", "broken", "doesn't", "does", "don't", "dont", "do", "never", "without");
        At("no_restrictions", Category.Hijack, 0.6, P.NoLongerBound(), "you");
        At("no_restrictions", Category.Hijack, 0.7, P.YouDontHaveToFollow(), "you");
        At("role_hijack", Category.Hijack, 0.6, P.DualResponseAt(), "two", "dual", "both");
        At("no_restrictions", Category.Hijack, 0.45, P.AnswersAnythingAt(), "answers", "answer", "respond", "responds", "does", "do", "will", "says", "say", "writes", "write", "tells", "tell", "never", "can't", "cannot", "won't");
        At("authority_claim", Category.Indirect, 0.4, P.AuthorityClaimAt(), "this", "i", "i'm", "on", "message", "you");
        At("developer_mode", Category.Hijack, 0.6, P.ModeSwitchMultilingual(), "activa", "activar", "activez", "active", "aktiviere", "aktivieren", "schakel", "wechsle", "entra", "entre", "passe");
        At("no_restrictions", Category.Hijack, 0.35, P.NoRestrictionsMultilingual(), "sin", "ohne", "sans", "zonder", "senza", "sem");

        // Extraction of the prompt, configuration and secrets.
        At("prompt_extraction", Category.Extraction, 0.65, P.PromptExtraction(), showVerbs);
        At("prompt_extraction", Category.Extraction, 0.55, P.WhatWereYouTold(), "what");
        At("prompt_extraction", Category.Weak, 0.2, P.VerbatimAt(), "verbatim", "word", "exactly", "character", "in", "quote");
        At("prompt_extraction", Category.Extraction, 0.5, P.StartsWithYouAreAt(), "starts", "start", "begins", "begin", "starting", "beginning");
        At("secret_extraction", Category.Extraction, 0.6, P.SecretsFromEnvironment(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.3, P.AllSecrets(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.55, P.YourSecrets(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.5, P.SecretsYouCanAccessAt(), "you");
        At("prompt_extraction", Category.Extraction, 0.55, P.CompleteThePromptAt(), "fill", "complete", "continue", "finish", "my", "your");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionDutch(), "laat", "toon", "geef", "vertel", "herhaal", "print");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionGerman(), "zeig", "zeige", "zeigen", "gib", "geben", "nenne", "nennen", "verrate", "verraten", "wiederhole", "wiederholen", "drucke");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionFrench(), "montre", "montrez", "affiche", "affichez", "révèle", "révélez", "revele", "donne", "donnez", "répète", "répétez", "dis", "dites", "imprime");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionSpanish(), "muestra", "muéstrame", "muestrame", "revela", "revélame", "revelame", "dime", "dame", "enseña", "enséñame", "ensename", "imprime", "repite");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionItalianPortuguese(), "mostre", "mostra", "mostrami", "revele", "rivela", "rivelami", "dimmi", "diga", "exiba", "stampa", "ripeti", "repita");
        At("secret_extraction", Category.Extraction, 0.3, P.AllPasswordsMultilingual(), "dame", "dime", "gib", "nenne", "zeig", "geef", "toon", "donne", "donnez", "montre", "dammi", "mostrami", "me");

        // Fake delimiters and role markers.
        Scan("fake_delimiter", Category.Delimiter, 0.6, P.ChatTemplateTokens(), "<|");
        Scan("fake_delimiter", Category.Delimiter, 0.45, P.InstTags(), "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "[system]", "[/system]", "<start_of_turn>", "<end_of_turn>", "[admin]", "[/admin]");
        Scan("fake_delimiter", Category.Delimiter, 0.55, P.AngleMarkers(), "<<");
        At("fake_delimiter", Category.Delimiter, 0.45, P.MarkdownRoleHeaderAt(), "system", "instruction", "instructions", "admin", "developer", "new", "assistant");
        Scan("fake_delimiter", Category.Delimiter, 0.35, P.XmlRoleTags(), "<system", "</system", "<user", "</user", "<assistant", "</assistant", "<admin", "</admin", "<instruction", "</instruction", "<prompt", "</prompt", "<developer", "</developer", "<sys", "</sys", "<context", "</context", "<human", "</human");
        Scan("fake_delimiter", Category.Delimiter, 0.6, P.HtmlCommentMarkers(), "<!--");
        At("fake_delimiter", Category.Delimiter, 0.35, P.RoleLineAt(), "system", "admin", "administrator", "developer", "root", "sudo");
        At("fake_delimiter", Category.Delimiter, 0.5, P.EndOfInputAt(), "ends", "ended", "is", "stops", "finishes", "end", "beginning", "start");
        At("fake_delimiter", Category.Delimiter, 0.45, P.JsonSystemRoleAt(), "role");

        // Indirect injection: text addressed to the AI inside documents, e-mails, pages and tool output.
        At("indirect_injection", Category.Indirect, 0.5, P.AddressedToAi(), "dear", "attention", "note", "message", "memo", "notice", "instruction", "instructions", "p", "ps", "important", "reminder");
        At("indirect_injection", Category.Weak, 0.15, P.GreetingToAi(), "hey", "hello", "hi", "yo", "greetings");
        At("indirect_injection", Category.Indirect, 0.5, P.AiReadingThisAt(), "reading", "processing", "summarizing", "summarising", "parsing", "analyzing", "analysing", "viewing", "seeing", "reviewing", "translating", "crawling", "indexing", "ingesting");
        At("indirect_injection", Category.Indirect, 0.5, P.IfYouAreAnAiAt(), "if");
        At("indirect_injection", Category.Indirect, 0.45, P.BracketedRoleAt(), [.. aiNouns, "system", "note", "instruction", "instructions"]);
        Scan("hidden_text", Category.Indirect, 0.3, P.HiddenText(), "<div", "<span", "<p ", "<section", "<font", "<!--");
        At("hidden_text", Category.Indirect, 0.3, P.WhiteTextAt(), "color");
        At("indirect_injection", Category.Indirect, 0.45, P.AiCommaImperativeAt(), [.. aiNouns, "gpt", "chatgpt", "claude", "copilot", "@assistant", "@ai", "@bot", "@copilot", "@claude", "@chatgpt", "@gpt", "@agent"]);
        At("indirect_injection", Category.Indirect, 0.3, P.YouAreRequired(), "you");
        At("indirect_injection", Category.Indirect, 0.4, P.AssistantMust(), aiNouns);
        At("indirect_injection", Category.Indirect, 0.4, P.WhenYouReadThis(), "when", "if", "once", "after", "as soon as");

        // Actions the user did not ask for.
        At("data_exfiltration", Category.Payload, 0.4, P.SendTo(), "send", "forward", "email", "mail", "post", "upload", "transmit", "exfiltrate", "leak", "share", "report", "deliver", "copy", "relay", "submit", "append", "attach", "log", "save", "store", "write", "push", "beam", "cc", "bcc");
        At("unrequested_action", Category.Payload, 0.3, P.TransferFunds(), "transfer");
        At("unrequested_action", Category.Payload, 0.3, P.ApprovePayment(), "confirm", "approve", "mark", "authorize", "authorise", "validate", "report", "state", "declare", "say");
        At("unrequested_action", Category.Payload, 0.3, P.GrantAdmin(), "give", "grant", "assign", "make", "elevate", "promote", "add");
        At("pwned_marker", Category.Payload, 0.45, P.PwnedAt(), "pwned", "i");
        At("harmful_request", Category.Payload, 0.3, P.Malware(), "write", "create", "generate", "build", "code", "develop", "make", "produce");
        At("unrequested_action", Category.Payload, 0.35, P.Leak(), "leak");
        At("unrequested_action", Category.Payload, 0.3, P.DumpTable(), "export", "dump", "drop", "delete", "truncate", "wipe", "exfiltrate", "download", "copy");
        At("data_exfiltration", Category.Payload, 0.4, P.OtherUsersDataAt(), "previous", "other", "another", "all", "earlier", "prior", "different");
        Scan("markdown_beacon", Category.Payload, 0.35, P.MarkdownImageWithQuery(), "![");
        At("markdown_beacon", Category.Payload, 0.35, P.FillBeaconWithDataAt(), "replace", "replacing", "substitute", "substituting", "fill", "filling", "put", "putting", "insert", "inserting", "append", "appending", "encode", "encoding", "include", "including");
        At("markdown_beacon", Category.Payload, 0.35, P.AppendDataToUrlAt(), "append", "attach", "add", "include", "encode", "insert", "embed", "render", "display", "show", "output");
        At("tool_call", Category.Payload, 0.3, P.CallFunctionSyntaxAt(), "call", "invoke", "execute", "run", "trigger");
        At("sensitive_file", Category.Payload, 0.35, P.SensitiveFileAt(), "authorized", "crontab", "id", "/.ssh/", "/etc/", ".aws/", ".bash", ".env");
        At("unrequested_action", Category.Payload, 0.35, P.RevealConfidential(), "reveal", "disclose", "share", "expose", "leak", "output", "dump", "print", "give", "send", "publish");
        Scan("markdown_beacon", Category.Payload, 0.3, P.BeaconUrl(), ".png?", ".gif?", ".jpg?", ".jpeg?", ".svg?", ".webp?", ".bmp?", ".ico?", "<img");
        At("response_manipulation", Category.Payload, 0.3, P.ResponseManipulationAt(), "put", "add", "append", "include", "insert", "place", "end", "start", "begin", "prefix", "suffix", "respond", "reply", "answer", "act", "behave");
        At("harmful_request", Category.Payload, 0.3, P.StealCredentialsAt(), "steal", "steals", "stealing");
        At("covert_action", Category.Payload, 0.35, P.CovertActionAt(), "without", "do", "don't", "dont", "never", "tell", "say", "keep", "hide", "secretly", "silently", "covertly", "quietly");
        At("tool_call", Category.Payload, 0.2, P.CallTool(), "call", "invoke", "run", "execute", "trigger", "use");
        At("unrequested_action", Category.Payload, 0.4, P.DangerousShellAt(), "curl", "rm");
        At("disable_safety", Category.Payload, 0.35, P.DisableSafety(), "turn", "disable", "deactivate", "remove", "bypass", "switch", "circumvent", "suspend", "lift", "drop");

        // Framing of encoded payloads.
        At("decode_and_execute", Category.Framing, 0.35, P.DecodeAndExecuteAt(), "decode", "decipher", "unscramble", "translate", "convert", "interpret", "reverse", "read", "rot13", "follow", "execute", "obey", "carry", "do", "perform", "run", "base64", "hex", "encoded", "obfuscated", "reversed");

        Rules = list.ToArray();
        if (Rules.Length > 128) throw new InvalidOperationException("At most 128 injection rules are supported.");

        var byWord = new Dictionary<string, HashSet<int>>(StringComparer.OrdinalIgnoreCase);
        var bySymbol = new Dictionary<string, HashSet<int>>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in Rules)
        {
            foreach (var anchor in rule.Anchors)
            {
                if (char.IsLetter(anchor[0]))
                {
                    var first = anchor.Split(' ')[0];
                    if (!byWord.TryGetValue(first, out var set)) byWord[first] = set = [];
                    set.Add(rule.Index);
                    var a = char.ToLowerInvariant(first[0]);
                    var b = first.Length > 1 ? char.ToLowerInvariant(first[1]) : '\0';
                    if (a < 128 && b < 128) FirstTwo[(a * 128) + b] = true;
                }
                else
                {
                    if (!bySymbol.TryGetValue(anchor, out var set)) bySymbol[anchor] = set = [];
                    set.Add(rule.Index);
                }
            }
        }

        RulesByWord = byWord.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.Order().ToArray(), StringComparer.OrdinalIgnoreCase)
            .GetAlternateLookup<ReadOnlySpan<char>>();
        var symbols = bySymbol.ToArray();
        RulesBySymbol = symbols.Select(kv => kv.Value.Order().ToArray()).ToArray();
        SymbolAnchors = new AnchorSet(symbols.Select((kv, i) => new AnchorSet.Entry(kv.Key, i)), ignoreCase: true);
    }

    /// <summary>Creates a detector with default options.</summary>
    public InjectionDetector()
        : this(new InjectionDetectorOptions())
    {
    }

    /// <summary>Creates a detector with the given options (validated).</summary>
    public InjectionDetector(InjectionDetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The decision threshold in use.</summary>
    public double Threshold => _options.Threshold;

    /// <summary>True when <paramref name="result"/> is at or above the configured threshold.</summary>
    public bool IsInjection(InjectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Score >= _options.Threshold;
    }

    /// <inheritdoc />
    public InjectionResult Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 4) return InjectionResult.None;
        if (text.Length > _options.MaxScoredLength)
        {
            var half = _options.MaxScoredLength / 2;
            var head = Score(text[..half], 0);
            var tail = Score(text[^half..], 0);
            return head.Score >= tail.Score ? head : tail;
        }

        return Score(text, 0);
    }

    private InjectionResult Score(string text, int depth)
    {
        var state = new ScoreState(Rules.Length);
        Evaluate(text, ref state);

        state.BaseProduct = state.Product;
        if (depth == 0) ScoreTransforms(text, ref state);
        if (state.Product >= 1.0) return InjectionResult.None;

        var score = 1.0 - state.Product;

        // Discussion of attacks rather than an attack: damp.
        if (score > 0 && MentionsAttackTopic(text))
        {
            var questionLike = text.Contains('?') || StartsWithQuestionWord(text);
            if (!state.UnquotedStrong || (questionLike && !state.ActionOrExtraction))
            {
                score *= 0.3;
                state.Signals?.Add("discussion_damped");
            }
        }

        score = Math.Clamp(Math.Round(score, 4), 0, 1);
        return new InjectionResult(score, (IReadOnlyList<string>?)state.Signals ?? []);
    }

    private struct ScoreState(int ruleCount)
    {
        public readonly bool[] Fired = new bool[ruleCount];
        public double Product = 1.0;
        public double BaseProduct = 1.0;
        public List<string>? Signals;
        public bool UnquotedStrong;
        public bool ActionOrExtraction;
        public List<(int Start, int End)>? Quotes;
        public bool QuotesComputed;

        /// <summary>A pattern ran out of time: reported as a signal; the score keeps what was found.</summary>
        public void TimedOut()
        {
            Signals ??= [];
            if (!Signals.Contains("scan_timeout")) Signals.Add("scan_timeout");
        }

        public void Add(string signal, double weight)
        {
            Product *= 1.0 - Math.Clamp(weight, 0, 0.99);
            Signals ??= [];
            if (!Signals.Contains(signal)) Signals.Add(signal);
        }
    }

    private static void Evaluate(string text, ref ScoreState state)
    {
        var span = text.AsSpan();
        UInt128 scanMask = 0;

        // Words: one pass, a two-letter quick reject, then a dictionary lookup of the word.
        for (var i = 0; i < span.Length;)
        {
            if (!char.IsLetter(span[i]))
            {
                i++;
                continue;
            }

            var start = i;
            i++;
            while (i < span.Length && (char.IsLetterOrDigit(span[i]) || (span[i] is '\'' or '’' && i + 1 < span.Length && char.IsLetter(span[i + 1])))) i++;
            if (start > 0 && char.IsAsciiDigit(span[start - 1])) continue;
            var word = span[start..i];
            if (word.Length > 1)
            {
                var a = char.ToLowerInvariant(word[0]);
                var b = char.ToLowerInvariant(word[1]);
                if (a < 128 && b < 128 && !FirstTwo[(a * 128) + b]) continue;
            }

            if (!RulesByWord.TryGetValue(word, out var rules)) continue;
            foreach (var r in rules) TryRule(text, r, start, ref state, ref scanMask);
        }

        // Symbols: "<|", "![", "[INST]", "/.ssh/", "@assistant", ….
        Span<int> ids = stackalloc int[8];
        for (var p = SymbolAnchors.Next(span, 0); p >= 0; p = SymbolAnchors.Next(span, p + 1))
        {
            var n = SymbolAnchors.MatchesAt(span, p, ids);
            for (var k = 0; k < n; k++)
            {
                foreach (var r in RulesBySymbol[ids[k]]) TryRule(text, r, p, ref state, ref scanMask);
            }
        }

        if (scanMask == 0) return;
        foreach (var rule in Rules)
        {
            if (((scanMask >> rule.Index) & UInt128.One) == 0 || state.Fired[rule.Index]) continue;
            var tries = 0;
            try
            {
                foreach (var m in rule.Regex.EnumerateMatches(span))
                {
                    Fire(text, rule, m.Index, m.Length, ref state);
                    if (state.Fired[rule.Index] && !IsQuoted(text, m.Index, ref state)) break;
                    if (++tries >= 8) break;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                state.TimedOut();
            }
        }
    }

    private static void TryRule(string text, int r, int position, ref ScoreState state, ref UInt128 scanMask)
    {
        if (state.Fired[r]) return;
        var rule = Rules[r];
        if (!rule.AtAnchor)
        {
            scanMask |= UInt128.One << r;
            return;
        }

        try
        {
            foreach (var m in rule.Regex.EnumerateMatches(text.AsSpan(), position))
            {
                if (m.Index == position) Fire(text, rule, m.Index, m.Length, ref state);
                break;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            state.TimedOut();
        }
    }

    private static void Fire(string text, Rule rule, int index, int length, ref ScoreState state)
    {
        var weight = AdjustedWeight(text, rule, index, length);
        if (weight <= 0) return;
        var quoted = IsQuoted(text, index, ref state);
        if (!state.Fired[rule.Index])
        {
            state.Fired[rule.Index] = true;
            state.Add(rule.Signal, weight);
        }

        if (!quoted && weight >= 0.45 && rule.Category is not (Category.Weak or Category.Framing)) state.UnquotedStrong = true;
        if (rule.Category is Category.Extraction or Category.Payload && weight >= 0.3) state.ActionOrExtraction = true;
    }

    /// <summary>Rule-specific refinements; 0 rejects the match.</summary>
    private static double AdjustedWeight(string text, Rule rule, int index, int length)
    {
        var regex = rule.Regex;
        if (ReferenceEquals(regex, P.OverrideFlexible()))
        {
            var m = regex.Match(text, index);
            var mid = m.Groups["mid"].ValueSpan;
            var tail = m.Groups["tail"].ValueSpan;
            if (P.SelfTail().IsMatch(tail)) return 0;
            var strongMid = P.OverrideStrongWord().IsMatch(mid);
            if (P.SelfWord().IsMatch(mid) && !mid.Contains("your", StringComparison.OrdinalIgnoreCase)) return 0;
            var strong = strongMid || P.OverrideStrongTail().IsMatch(tail);

            // Developers override methods, commands and configuration; only AI-directed objects count then.
            var verb = text.AsSpan(index, Math.Min(9, text.Length - index));
            if (!strong && (verb.StartsWith("overr", StringComparison.OrdinalIgnoreCase) || verb.StartsWith("bypass", StringComparison.OrdinalIgnoreCase)))
            {
                return 0;
            }

            return strong ? rule.Weight : 0.45;
        }

        if (ReferenceEquals(regex, P.SendTo()))
        {
            var m = regex.Match(text, index);
            var mid = m.Groups["mid"];
            return mid.Success && P.DataWords().IsMatch(text.AsSpan(mid.Index, mid.Length)) ? rule.Weight : 0.15;
        }

        if (ReferenceEquals(regex, P.ModeSwitch()))
        {
            // "how do I enable developer mode on my Android phone" / "on Android, enable developer mode".
            var sentenceStart = text.AsSpan(0, index).LastIndexOfAny(".?!\n") + 1;
            if (index - sentenceStart > 80) sentenceStart = index - 80;
            return P.DeviceContext().IsMatch(text.AsSpan(sentenceStart, index - sentenceStart)) ? 0 : rule.Weight;
        }

        if (ReferenceEquals(regex, P.AddressedToAi()) && text.AsSpan(index).StartsWith("dear", StringComparison.OrdinalIgnoreCase))
        {
            // "Dear assistant, could you…" is politeness; "Dear AI reading this: …" also fires AiReadingThis.
            return 0.3;
        }

        if (ReferenceEquals(regex, P.MarkdownImageWithQuery()))
        {
            var url = text.AsSpan(index, length);
            var q = url.IndexOf('?');
            return q >= 0 && P.BeaconTemplate().IsMatch(url[q..]) ? 0.7 : 0.2;
        }

        if (ReferenceEquals(regex, P.BeaconUrl()))
        {
            var url = text.AsSpan(index, Math.Min(text.Length - index, 400));
            var end = url.IndexOfAny(" \n\t)\"'>");
            if (end > 0) url = url[..end];
            var q = url.IndexOf('?');
            // A template ("?d={data}", "?q=SECRET") or an empty value to be filled in ("?d=") carries data out.
            return q >= 0 && (P.BeaconTemplate().IsMatch(url[q..]) || url[^1] == '=') ? 0.5 : 0.15;
        }

        return rule.Weight;
    }

    /// <summary>Vocabulary of discussion about attacks (questions, training, filters, definitions).</summary>
    private static bool MentionsAttackTopic(string text)
    {
        var span = text.AsSpan();
        for (var i = 0; i < span.Length;)
        {
            var k = span[i..].IndexOfAny(MetaSearch);
            if (k < 0) return false;
            var p = i + k;
            i = p + 1;
            if (p > 0 && char.IsLetter(span[p - 1])) continue;
            foreach (var (phrase, stem) in MetaIsStem)
            {
                if (!span[p..].StartsWith(phrase, StringComparison.OrdinalIgnoreCase)) continue;
                var end = p + phrase.Length;
                if (stem || end >= span.Length || !char.IsLetter(span[end])) return true;
            }
        }

        return false;
    }

    private static bool StartsWithQuestionWord(string text)
    {
        ReadOnlySpan<string> words = ["what", "how", "why", "is ", "are ", "can ", "could ", "should ", "explain", "define", "describe", "give me a definition", "which", "wat ", "was ", "qu'est", "qué", "que ", "write a blog", "write an article", "write an essay", "summarize the history"];
        var t = text.AsSpan().TrimStart();
        foreach (var w in words)
        {
            if (t.StartsWith(w, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static bool IsQuoted(string text, int index, ref ScoreState state)
    {
        if (!state.QuotesComputed)
        {
            state.QuotesComputed = true;
            state.Quotes = QuotedRegions(text);
        }

        if (state.Quotes is null) return false;
        foreach (var (s, e) in state.Quotes)
        {
            if (index > s && index < e) return true;
        }

        return false;
    }

    /// <summary>Regions between matching quotes: "…", “…”, «…», `…` and '…' (apostrophes inside words ignored).</summary>
    private static List<(int, int)>? QuotedRegions(string text)
    {
        List<(int, int)>? regions = null;
        var open = -1;
        var openChar = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (open < 0)
            {
                if (c is '"' or '“' or '«' or '`' || (c is '\'' or '‘' && (i == 0 || !char.IsLetterOrDigit(text[i - 1]))))
                {
                    open = i;
                    openChar = c;
                }
            }
            else
            {
                var close = openChar switch
                {
                    '“' => c == '”',
                    '«' => c == '»',
                    '‘' => c == '’',
                    '\'' => c == '\'' && (i + 1 >= text.Length || !char.IsLetterOrDigit(text[i + 1])),
                    _ => c == openChar,
                };
                if (close)
                {
                    (regions ??= []).Add((open, i));
                    open = -1;
                }
            }
        }

        return regions;
    }

    /// <summary>Decoded (base64, hex) and de-obfuscated (reversed, rot13, leetspeak, spaced letters) variants.</summary>
    private void ScoreTransforms(string text, ref ScoreState state)
    {
        var decoded = 0;
        foreach (var candidate in EncodedRuns(text))
        {
            if (decoded++ >= _options.MaxDecodedCandidates) break;
            var sub = Score(candidate, 1);
            if (sub.Score > 0.2) state.Add("encoded_instruction", sub.Score * 0.95);
        }

        var span = text.AsSpan();
        if (span.ContainsAny(ReversedAnchors))
        {
            var chars = text.ToCharArray();
            Array.Reverse(chars);
            AddObfuscated(new string(chars), ref state);
        }

        if (span.ContainsAny(Rot13Anchors)) AddObfuscated(Rot13(text), ref state);
        if (LeetCount(span) >= 2) AddObfuscated(Leet(text), ref state);
        if (TryCollapseSpacedLetters(text, out var collapsed)) AddObfuscated(collapsed, ref state);
    }

    private void AddObfuscated(string variant, ref ScoreState state)
    {
        // The variant repeats the readable parts of the text: count it only when it reveals more than the original.
        var sub = Score(variant, 1);
        if (sub.Score > 0.2 && sub.Score > (1.0 - state.BaseProduct) + 0.15) state.Add("obfuscated_instruction", sub.Score * 0.95);
    }

    /// <summary>Base64 and hex runs that decode to mostly printable text.</summary>
    private static IEnumerable<string> EncodedRuns(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !IsB64(text[i])) i++;
            var start = i;
            while (i < text.Length && (IsB64(text[i]) || text[i] == '=')) i++;
            var len = i - start;
            if (len < 16 || len > 16 * 1024) continue;
            var run = text.AsSpan(start, len);
            var decoded = DecodeHex(run) ?? DecodeBase64(run);
            if (decoded is not null) yield return decoded;
        }
    }

    private static bool IsB64(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '-' or '_';

    private static string? DecodeBase64(ReadOnlySpan<char> run)
    {
        var body = run.TrimEnd('=');
        if (body.Length < 16) return null;
        var chars = new char[body.Length + 3];
        for (var k = 0; k < body.Length; k++)
        {
            chars[k] = body[k] switch
            {
                '-' => '+',
                '_' => '/',
                var c => c,
            };
        }

        var n = body.Length;
        if (n % 4 == 1) return null;
        while (n % 4 != 0) chars[n++] = '=';
        var bytes = new byte[n];
        if (!Convert.TryFromBase64Chars(chars.AsSpan(0, n), bytes, out var written)) return null;
        return PrintableText(bytes.AsSpan(0, written));
    }

    private static string? DecodeHex(ReadOnlySpan<char> run)
    {
        if (run.Length < 24 || run.Length % 2 != 0 || run.ContainsAnyExcept(SecretHeuristics.HexAny)) return null;
        var bytes = new byte[run.Length / 2];
        for (var k = 0; k < bytes.Length; k++)
        {
            bytes[k] = (byte)((HexValue(run[2 * k]) << 4) | HexValue(run[(2 * k) + 1]));
        }

        return PrintableText(bytes);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string? PrintableText(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8) return null;
        string s;
        try
        {
            s = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var printable = 0;
        var spaces = 0;
        foreach (var c in s)
        {
            if (c == ' ') spaces++;
            if (!char.IsControl(c) || c is '\n' or '\r' or '\t') printable++;
        }

        return printable >= s.Length * 0.95 && spaces >= 1 ? s : null;
    }

    private static string Rot13(string text) =>
        string.Create(text.Length, text, static (dst, src) =>
        {
            for (var k = 0; k < src.Length; k++)
            {
                var c = src[k];
                dst[k] = c switch
                {
                    >= 'a' and <= 'z' => (char)('a' + ((c - 'a' + 13) % 26)),
                    >= 'A' and <= 'Z' => (char)('A' + ((c - 'A' + 13) % 26)),
                    _ => c,
                };
            }
        });

    /// <summary>Digits and symbols used as letters inside words (1gn0r3).</summary>
    private static int LeetCount(ReadOnlySpan<char> s)
    {
        var count = 0;
        for (var k = 1; k < s.Length - 1; k++)
        {
            if (s[k] is '0' or '1' or '3' or '4' or '5' or '7' or '@' or '$' && char.IsAsciiLetter(s[k - 1]) && (char.IsAsciiLetter(s[k + 1]) || s[k + 1] is '0' or '1' or '3' or '4' or '5' or '7'))
            {
                count++;
            }
        }

        return count;
    }

    private static string Leet(string text) =>
        string.Create(text.Length, text, static (dst, src) =>
        {
            for (var k = 0; k < src.Length; k++)
            {
                var c = src[k];
                var inWord = (k > 0 && char.IsAsciiLetterOrDigit(src[k - 1])) || (k + 1 < src.Length && char.IsAsciiLetter(src[k + 1]));
                dst[k] = !inWord ? c : c switch
                {
                    '0' => 'o',
                    '1' => 'i',
                    '3' => 'e',
                    '4' => 'a',
                    '5' => 's',
                    '7' => 't',
                    '@' => 'a',
                    '$' => 's',
                    _ => c,
                };
            }
        });

    /// <summary>"i g n o r e  a l l" → "ignore all" when at least six single letters are spaced out.</summary>
    private static bool TryCollapseSpacedLetters(string text, out string collapsed)
    {
        collapsed = "";
        var run = 0;
        var best = 0;
        for (var k = 0; k < text.Length; k++)
        {
            var single = char.IsLetter(text[k]) && (k == 0 || !char.IsLetter(text[k - 1])) && (k + 1 >= text.Length || !char.IsLetter(text[k + 1]));
            if (single) run++;
            else if (char.IsLetter(text[k])) run = 0;
            best = Math.Max(best, run);
        }

        if (best < 6) return false;
        var sb = new StringBuilder(text.Length);
        for (var k = 0; k < text.Length; k++)
        {
            var c = text[k];
            if (c is ' ' or '.' or '-' or '_' or '*' && k > 0 && k + 1 < text.Length && char.IsLetter(text[k - 1]) && char.IsLetter(text[k + 1])
                && (k < 2 || !char.IsLetter(text[k - 2])) && (k + 2 >= text.Length || !char.IsLetter(text[k + 2])))
            {
                continue;
            }

            sb.Append(c);
        }

        collapsed = sb.ToString();
        return true;
    }
}
