using System.Buffers;
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
    private static readonly AnchorSet Anchors;
    private static readonly int[][] RulesByAnchor;
    private static readonly bool[] AnchorStartsWithLetter;
    private static readonly SearchValues<string> ReversedAnchors = SearchValues.Create(
        ["snoitcurtsni", "erongi", "dragersid", "tpmorp", "suoiverp", "kaerbliaj", "drowssap", "laever", "tegrof"],
        StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<string> Rot13Anchors = SearchValues.Create(
        ["vtaber", "vafgehpgvba", "qvfertneq", "cebzcg", "cerivbhf", "flfgrz", "erirny", "wnvyoernx", "cnffjbeq", "sbetrg"],
        StringComparison.OrdinalIgnoreCase);

    private readonly InjectionDetectorOptions _options;

    static InjectionDetector()
    {
        string[] overrideVerbs =
        [
            "ignore", "ignoring", "disregard", "forget", "override", "overrule", "bypass", "neglect", "dismiss",
            "stop following", "do not follow", "don't follow", "dont follow", "no longer follow", "never follow",
            "set aside", "pay no attention", "discard", "abandon", "drop", "skip", "erase", "delete", "clear", "cancel",
            "reset", "nullify", "scrap", "ditch", "omit", "suspend", "revoke", "throw", "put aside", "wipe",
        ];
        string[] showVerbs =
        [
            "show", "reveal", "print", "repeat", "output", "display", "tell", "give", "leak", "dump", "recite", "write",
            "spell out", "list", "share", "expose", "disclose", "return", "echo", "paste", "copy", "type out", "read",
            "provide", "send", "translate", "summarize", "summarise", "encode", "what is", "what are", "what was",
            "what were", "cat", "respond", "reply", "answer", "include", "start", "quote", "type", "reproduce",
        ];

        var list = new List<Rule>();
        void At(string signal, Category c, double w, Regex r, params string[] anchors) => list.Add(new Rule(list.Count, signal, c, w, r, true, anchors));
        void Scan(string signal, Category c, double w, Regex r, params string[] anchors) => list.Add(new Rule(list.Count, signal, c, w, r, false, anchors));

        At("direct_override", Category.Override, 0.8, P.OverrideStrong(), overrideVerbs);
        At("direct_override", Category.Override, 0.8, P.OverrideFlexible(), [.. overrideVerbs, "cast aside", "toss"]);
        At("direct_override", Category.Override, 0.8, P.OverrideSystemMessage(), [.. overrideVerbs, "pay no attention"]);
        At("direct_override", Category.Override, 0.7, P.IgnoreAboveInstead(), "ignore", "disregard", "forget");
        At("direct_override", Category.Override, 0.45, P.IgnoreTheTask(), "ignore", "disregard", "forget", "skip", "abandon", "drop");
        Scan("direct_override", Category.Override, 0.3, P.AndInstead(), "instead");
        At("direct_override", Category.Override, 0.8, P.ForgetEverythingTold(), "ignore", "disregard", "forget", "erase", "discard", "set aside", "put aside", "drop", "abandon", "throw", "wipe", "clear", "delete", "dismiss");
        At("direct_override", Category.Override, 0.55, P.ForgetEverythingAbove(), "ignore", "disregard", "forget", "erase", "discard");
        At("direct_override", Category.Override, 0.8, P.InstructionsVoid(), "all", "previous", "prior", "earlier", "above", "preceding", "old", "original", "your", "former", "existing", "initial", "system", "current");
        At("new_instructions", Category.Override, 0.35, P.NewRules(), "new", "updated", "revised", "real", "actual", "true", "secret", "your", "from now on");
        At("system_override", Category.Override, 0.6, P.SystemOverride(), "system", "admin", "administrator", "developer", "emergency", "security", "root", "sudo", "master", "god", "maintenance", "override");
        At("direct_override", Category.Override, 0.6, P.IgnoreTheUser(), "ignore", "disregard", "forget", "bypass", "override");
        At("multilingual_override", Category.Override, 0.8, P.OverrideDutch(), "negeer", "vergeet", "vergeten", "verwaarloos", "omzeil");
        At("multilingual_override", Category.Override, 0.8, P.OverrideGerman(), "ignorier", "missachte", "vergiss", "vergesse", "vergessen", "übergehe", "umgehe", "verwirf", "überspringe", "vergesst");
        At("multilingual_override", Category.Override, 0.8, P.OverrideFrench(), "ignore", "oublie", "néglige", "outrepasse", "contourne", "ne tiens", "ne tenez", "ne tenir", "fais abstraction", "faites abstraction");
        At("multilingual_override", Category.Override, 0.8, P.OverrideSpanish(), "ignora", "ignore", "olvida", "olvide", "omite", "omita", "descarta", "descarte", "no sigas", "no siga", "no obedezca", "haz caso");
        At("multilingual_override", Category.Override, 0.8, P.OverrideItalianPortuguese(), "ignore", "ignora", "dimentica", "trascura", "esque", "desconsider");

        At("role_hijack", Category.Hijack, 0.75, P.PersonaName(), "you are", "you're", "you will be", "you shall be", "pretend", "act as", "acting as", "roleplay", "role-play", "play", "become", "becoming", "called", "named", "known as", "going to");
        Scan("role_hijack", Category.Hijack, 0.6, P.JailbreakTerms(), "do anything now", "jailbr", "dan", "stan", "aim");
        At("developer_mode", Category.Hijack, 0.65, P.ModeSwitch(), "enter", "enable", "activat", "switch", "turn on", "turning on", "unlock", "go into", "boot into", "you are in", "you are now in", "now in", "put yourself", "engage", "initiate");
        Scan("no_restrictions", Category.Hijack, 0.6, P.AiWithoutLimits(), "without", "with no", "has no", "have no", "not bound", "unbound", "free of", "free from", "freed from", "released from", "liberated from", "beyond", "ignoring", "no longer has", "no longer have");
        Scan("disable_safety", Category.Hijack, 0.6, P.SafetyDisabledClaim(), "safety", "filter", "moderation", "guardrail", "restrictions", "censorship", "content polic", "ethical guidelines");
        Scan("no_restrictions", Category.Hijack, 0.4, P.AnswerWithoutFilters(), "without", "never", "don't", "dont", "do not");
        At("role_hijack", Category.Hijack, 0.3, P.StayInCharacter(), "stay", "remain", "keep", "staying", "never", "don't", "dont", "do not");
        At("role_hijack", Category.Hijack, 0.55, P.DeceasedRelative(), "act", "pretend", "roleplay", "role-play", "play", "behave", "respond", "speak");
        At("role_hijack", Category.Hijack, 0.6, P.UnrestrictedPersona(), "you are", "you're", "unfiltered", "uncensored", "unrestricted", "amoral", "unaligned", "jailbroken");
        Scan("role_hijack", Category.Hijack, 0.35, P.AmoralTraits(), "machiavellian", "no ethics", "no morals", "no ethical", "no moral", "no filters", "strives to avoid", "broken free", "care about", "never refuse", "without moral", "without ethical", "without any moral", "without any ethical");
        At("no_restrictions", Category.Hijack, 0.6, P.NoLongerBound(), "you");
        At("no_restrictions", Category.Hijack, 0.7, P.YouDontHaveToFollow(), "you");
        At("role_hijack", Category.Hijack, 0.5, P.PersonaGeneric(), "you are", "you're", "act as", "acting as", "pretend", "become", "play", "roleplay", "called", "named");
        Scan("role_hijack", Category.Hijack, 0.6, P.DualResponse(), "two", "2", "dual", "both");
        Scan("no_restrictions", Category.Hijack, 0.45, P.AnswersAnything(), "anything", "everything", "never", "can't", "cannot", "won't", "will not");
        Scan("authority_claim", Category.Indirect, 0.4, P.AuthorityClaim(), "i am", "i'm", "this message", "this request", "this instruction", "on behalf", "message from", "authoriz", "authoris", "permit", "allow", "order you", "command you", "cleared");
        At("no_restrictions", Category.Hijack, 0.35, P.ComplyWithEverything(), "comply", "answer", "fulfil", "obey", "execute", "carry out", "do");
        At("developer_mode", Category.Hijack, 0.6, P.ModeSwitchMultilingual(), "activa", "activez", "active", "aktiviere", "schakel", "wechsle", "entra en", "entre en", "passe en");
        At("no_restrictions", Category.Hijack, 0.35, P.NoRestrictionsMultilingual(), "sin", "ohne", "sans", "zonder", "senza", "sem");

        At("prompt_extraction", Category.Extraction, 0.65, P.PromptExtraction(), showVerbs);
        At("prompt_extraction", Category.Extraction, 0.55, P.WhatWereYouTold(), "what");
        Scan("prompt_extraction", Category.Weak, 0.2, P.Verbatim(), "verbatim", "word for word", "word-for-word", "exactly as", "character for character", "in its entirety");
        Scan("prompt_extraction", Category.Extraction, 0.5, P.StartsWithYouAre(), "starts with", "start with", "begins with", "begin with", "starting with", "beginning with");
        At("secret_extraction", Category.Extraction, 0.6, P.SecretsFromEnvironment(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.3, P.AllSecrets(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.55, P.YourSecrets(), showVerbs);
        Scan("secret_extraction", Category.Extraction, 0.5, P.SecretsYouCanAccess(), "you can", "you have", "you were", "you are storing");
        Scan("prompt_extraction", Category.Extraction, 0.55, P.CompleteThePrompt(), "fill in", "complete", "continue", "finish", "says", "reads", "is:", "are:");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionDutch(), "laat", "toon", "geef", "vertel", "herhaal", "print");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionGerman(), "zeig", "gib", "nenne", "verrate", "wiederhole", "drucke");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionFrench(), "montre", "affiche", "révèle", "revele", "donne", "répète", "répétez", "dis", "dites", "imprime");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionSpanish(), "muestra", "muéstrame", "revela", "revélame", "dime", "dame", "enseña", "enséñame", "ensename", "imprime", "repite");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionItalianPortuguese(), "mostre", "mostra", "revele", "rivela", "dimmi", "diga", "exiba", "stampa", "ripeti", "repita");
        At("secret_extraction", Category.Extraction, 0.3, P.AllPasswordsMultilingual(), "dame", "dime", "gib mir", "nenne mir", "zeig mir", "geef me", "toon me", "donne-moi", "donnez-moi", "montre-moi", "dammi", "mostrami", "me d");

        Scan("fake_delimiter", Category.Delimiter, 0.6, P.ChatTemplateTokens(), "<|");
        Scan("fake_delimiter", Category.Delimiter, 0.45, P.InstTags(), "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "[system]", "[/system]", "<start_of_turn>", "<end_of_turn>", "[admin]", "[/admin]");
        Scan("fake_delimiter", Category.Delimiter, 0.55, P.AngleMarkers(), "<<");
        Scan("fake_delimiter", Category.Delimiter, 0.45, P.MarkdownRoleHeader(), "#");
        Scan("fake_delimiter", Category.Delimiter, 0.35, P.XmlRoleTags(), "<system", "</system", "<user", "</user", "<assistant", "</assistant", "<admin", "</admin", "<instruction", "</instruction", "<prompt", "</prompt", "<developer", "</developer", "<sys", "</sys", "<context", "</context", "<human", "</human");
        Scan("fake_delimiter", Category.Delimiter, 0.6, P.HtmlCommentMarkers(), "<!--");
        Scan("fake_delimiter", Category.Delimiter, 0.35, P.RoleLine(), "system", "admin", "developer", "root", "sudo");
        Scan("fake_delimiter", Category.Delimiter, 0.5, P.EndOfInput(), "ends here", "ended here", "is over here", "stops here", "finishes here", "complete here", "finished here", "done here", "end of", "beginning of", "start of");
        Scan("fake_delimiter", Category.Delimiter, 0.45, P.JsonSystemRole(), "role");

        At("indirect_injection", Category.Indirect, 0.5, P.AddressedToAi(), "dear", "attention", "note to", "message to", "memo to", "notice to", "instruction", "p.s", "ps", "p. s", "important", "reminder", "a note for");
        At("indirect_injection", Category.Weak, 0.15, P.GreetingToAi(), "hey", "hello", "hi", "yo", "greetings");
        Scan("indirect_injection", Category.Indirect, 0.5, P.AiReadingThis(), "reading", "processing", "summariz", "summaris", "parsing", "analyz", "analys", "viewing", "seeing", "reviewing", "translating", "crawling", "indexing", "ingesting");
        Scan("indirect_injection", Category.Indirect, 0.5, P.IfYouAreAnAi(), "if you are");
        Scan("indirect_injection", Category.Indirect, 0.45, P.BracketedRole(), "assistant", "ai", "system", "model", "bot", "llm", "agent", "note to", "instruction");
        Scan("hidden_text", Category.Indirect, 0.3, P.HiddenText(), "hidden", "display", "visibility", "font-size", "opacity", "color", "<!--");
        Scan("indirect_injection", Category.Indirect, 0.45, P.AiCommaImperative(), "ai", "assistant", "bot", "model", "llm", "agent", "gpt", "claude", "copilot");
        At("indirect_injection", Category.Indirect, 0.3, P.YouAreRequired(), "you are", "you must");
        At("indirect_injection", Category.Indirect, 0.4, P.AssistantMust(), "the assistant", "the ai", "the model", "the bot", "the agent", "the llm", "assistant", "ai", "model", "bot", "agent", "llm");
        At("indirect_injection", Category.Indirect, 0.4, P.WhenYouReadThis(), "when", "if", "once", "after", "as soon as");

        At("data_exfiltration", Category.Payload, 0.4, P.SendTo(), "send", "forward", "email", "e-mail", "mail", "post", "upload", "transmit", "exfiltrate", "leak", "share", "report", "deliver", "copy", "relay", "submit");
        At("unrequested_action", Category.Payload, 0.3, P.TransferFunds(), "transfer");
        At("unrequested_action", Category.Payload, 0.3, P.ApprovePayment(), "confirm", "approve", "mark", "authoriz", "authoris", "validate", "report", "state", "declare", "say");
        At("unrequested_action", Category.Payload, 0.3, P.GrantAdmin(), "give", "grant", "assign", "make", "elevate", "promote", "add");
        Scan("pwned_marker", Category.Payload, 0.45, P.Pwned(), "pwned", "been hacked", "been compromised");
        At("harmful_request", Category.Payload, 0.3, P.Malware(), "write", "create", "generate", "build", "code", "develop", "make", "produce");
        At("unrequested_action", Category.Payload, 0.35, P.Leak(), "leak");
        At("unrequested_action", Category.Payload, 0.3, P.DumpTable(), "export", "dump", "drop", "delete", "truncate", "wipe", "exfiltrate", "download", "copy");
        Scan("data_exfiltration", Category.Payload, 0.4, P.OtherUsersData(), "user", "customer", "people", "person", "session");
        Scan("markdown_beacon", Category.Payload, 0.35, P.MarkdownImageWithQuery(), "![");
        Scan("markdown_beacon", Category.Payload, 0.35, P.FillBeaconWithData(), "replac", "substitut", "fill", "put", "insert", "append", "encod", "includ");
        Scan("markdown_beacon", Category.Payload, 0.35, P.AppendDataToUrl(), "append", "attach", "add", "include", "encode", "insert", "embed", "render", "display", "show", "output");
        Scan("tool_call", Category.Payload, 0.3, P.CallFunctionSyntax(), "call", "invoke", "execute", "run", "trigger");
        Scan("sensitive_file", Category.Payload, 0.35, P.SensitiveFile(), "authorized_keys", ".ssh/", "crontab", "/etc/", "id_rsa", ".aws/", ".bash", ".env");
        At("unrequested_action", Category.Payload, 0.35, P.RevealConfidential(), "reveal", "disclose", "share", "expose", "leak", "output", "dump", "print", "give", "send", "publish");
        Scan("markdown_beacon", Category.Payload, 0.3, P.BeaconUrl(), ".png?", ".gif?", ".jpg?", ".jpeg?", ".svg?", ".webp?", ".bmp?", ".ico?", "<img");
        Scan("response_manipulation", Category.Payload, 0.3, P.ResponseManipulation(), "reply", "replies", "response", "answer", "message", "output", "normally");
        Scan("harmful_request", Category.Payload, 0.3, P.StealCredentials(), "steal");
        Scan("covert_action", Category.Payload, 0.35, P.CovertAction(), "without", "do not", "don't", "dont", "never", "secretly", "silently", "covertly", "quietly", "tell", "say", "keep", "hide");
        At("tool_call", Category.Payload, 0.2, P.CallTool(), "call", "invoke", "run", "execute", "trigger");
        Scan("unrequested_action", Category.Payload, 0.4, P.DangerousShell(), "curl", "rm -rf");
        At("disable_safety", Category.Payload, 0.35, P.DisableSafety(), "turn off", "disable", "deactivate", "remove", "bypass", "switch off", "circumvent", "suspend", "lift", "drop");

        Scan("decode_and_execute", Category.Framing, 0.35, P.DecodeAndExecute(), "decode", "decipher", "unscramble", "translate", "convert", "interpret", "reverse", "read", "rot13", "follow", "execute", "obey", "carry out", "perform", "run", "do ", "base64", "hex", "encoded", "obfuscated");

        Rules = list.ToArray();
        if (Rules.Length > 128) throw new InvalidOperationException("At most 128 injection rules are supported.");

        var anchorIds = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var byAnchor = new List<List<int>>();
        foreach (var rule in Rules)
        {
            foreach (var a in rule.Anchors)
            {
                if (!anchorIds.TryGetValue(a, out var id))
                {
                    id = anchorIds.Count;
                    anchorIds.Add(a, id);
                    byAnchor.Add([]);
                }

                if (!byAnchor[id].Contains(rule.Index)) byAnchor[id].Add(rule.Index);
            }
        }

        RulesByAnchor = byAnchor.Select(l => l.ToArray()).ToArray();
        AnchorStartsWithLetter = anchorIds.OrderBy(kv => kv.Value).Select(kv => char.IsLetter(kv.Key[0])).ToArray();
        Anchors = new AnchorSet(anchorIds.Select(kv => new AnchorSet.Entry(kv.Key, kv.Value)), ignoreCase: true);
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
        if (score > 0 && P.MetaDiscussion().IsMatch(text))
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
        Span<int> ids = stackalloc int[16];
        for (var p = Anchors.Next(span, 0); p >= 0; p = Anchors.Next(span, p + 1))
        {
            var n = Anchors.MatchesAt(span, p, ids);
            var wordStart = p == 0 || !char.IsLetterOrDigit(span[p - 1]);
            for (var k = 0; k < n; k++)
            {
                if (AnchorStartsWithLetter[ids[k]] && !wordStart) continue;
                foreach (var r in RulesByAnchor[ids[k]])
                {
                    if (state.Fired[r]) continue;
                    var rule = Rules[r];
                    if (!rule.AtAnchor)
                    {
                        scanMask |= UInt128.One << r;
                        continue;
                    }

                    try
                    {
                        foreach (var m in rule.Regex.EnumerateMatches(span, p))
                        {
                            if (m.Index == p) Fire(text, rule, m.Index, m.Length, ref state);
                            break;
                        }
                    }
                    catch (RegexMatchTimeoutException)
                    {
                        state.TimedOut();
                    }
                }
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
