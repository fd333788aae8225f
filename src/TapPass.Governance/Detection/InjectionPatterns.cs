using System.Text.RegularExpressions;

namespace TapPass.Governance.Detection;

/// <summary>
/// Source-generated patterns for <see cref="InjectionDetector"/>. Patterns starting with <c>\G</c> are tried only
/// at the positions where the prefilter found one of their leading words; the others run over the whole text when
/// one of their anchors occurs.
/// </summary>
internal static partial class InjectionPatterns
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;
    private const int TimeoutMs = 1000;

    // Shared vocabulary (kept in sync with the anchor lists in InjectionDetector).
    private const string Nouns =
        @"(?:instructions?|rules?|guidelines?|directions?|directives?|prompts?|guidance|context|constraints?|restrictions?|polic(?:y|ies)|programming|training|commands?|orders?|safeguards?|filters?|moderation|guardrails?|limitations?|principles|protocols?|conditioning|system\s+(?:prompt|message)|persona|ethics|morals|configuration|setup)";

    private const string StrongQualifiers =
        @"(?:your|all|any|every|previous|previously\s+given|prior|preceding|earlier|above|above-mentioned|aforementioned|foregoing|initial|original|existing|system|safety|developer|hidden|internal|former|programmed|built-in|default|standing|current|these|those|such)";

    private const string Qualifiers =
        @"(?:all|any|every|each|of|the|your|these|those|such|previous|previously|prior|preceding|earlier|above|above-mentioned|aforementioned|foregoing|initial|original|old|existing|current|default|system|safety|developer|given|hidden|internal|other|former|past|established|standing|programmed|built-in|stated|provided|that|this|and|or|my\s+creators'?|openai'?s?|anthropic'?s?)";

    private const string NotSelf = @"(?!\s+(?:that\s+)?(?:I|we)\s+(?:just\s+|had\s+|have\s+)?(?:wrote|written|gave|given|sent|typed|said|posted|mentioned|added|provided|shared|made|listed))";

    private const string AiWords =
        @"(?:AI|A\.I\.|assistant|bot|chatbot|model|language\s+model|LLM|GPT|ChatGPT|Claude|Copilot|Gemini|agent|AI\s+(?:agents?|assistants?|models?|systems?)|automated\s+(?:systems?|agents?|assistants?)|summari[sz]er|crawler|scraper)";

    // ---- direct override -------------------------------------------------------------------------------------

    [GeneratedRegex(@"\G(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overrule|bypass|neglect|dismiss|stop\s+following|do\s+not\s+follow|don'?t\s+follow|no\s+longer\s+follow|never\s+follow|set\s+aside|pay\s+no\s+attention\s+to|discard|abandon|drop|skip|erase|delete|clear|cancel|reset|nullify|scrap|ditch|omit|suspend|revoke|throw\s+(?:away|out)|put\s+aside|wipe)\s+(?:(?:the|of|and|or)\s+){0,2}" + StrongQualifiers + @"\s+(?:" + Qualifiers + @"\s+){0,4}" + Nouns + @"\b" + NotSelf, Options, TimeoutMs)]
    internal static partial Regex OverrideStrong();

    [GeneratedRegex(@"\G(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overrule|bypass|neglect|dismiss|stop\s+following|do\s+not\s+follow|don'?t\s+follow|no\s+longer\s+follow|never\s+follow|set\s+aside|pay\s+no\s+attention\s+to|discard|abandon|drop|erase|nullify|scrap|ditch|throw\s+(?:away|out)|put\s+aside|wipe|cast\s+aside|toss)\s+(?<mid>(?:[\p{L}0-9'’\-]+\s+){0,5}?)(?:" + Nouns + @")\b(?<tail>[^.\n!?;]{0,48})", Options, TimeoutMs)]
    internal static partial Regex OverrideFlexible();

    [GeneratedRegex(@"\b(?:your|all|any|every|previous|previously|prior|preceding|earlier|above|above-mentioned|aforementioned|foregoing|initial|original|existing|system|safety|developer|hidden|internal|former|programmed|built-in|default|standing|usual|standard|current|whatever|those|these|such|pre-?set|preset|configured|given|core|base|ethical|moral|content|openai'?s?|anthropic'?s?)\b", Options, TimeoutMs)]
    internal static partial Regex OverrideStrongWord();

    [GeneratedRegex(@"\b(?:my|I|we|our|me)\b", Options, TimeoutMs)]
    internal static partial Regex SelfWord();

    [GeneratedRegex(@"^\s*(?:that\s+|which\s+)?(?:you\s+(?:were|have\s+been|'ve\s+been|got|received|are\s+(?:given|following|bound\s+by)|follow|have)|(?:given|provided|assigned)\s+to\s+you|(?:set|configured|provided|imposed)\s+(?:for|by|on)|from\s+your|of\s+your|(?:above|before|so\s+far))", Options, TimeoutMs)]
    internal static partial Regex OverrideStrongTail();

    [GeneratedRegex(@"^\s*(?:that\s+|which\s+)?(?:I|we)\s+(?:just\s+|had\s+|have\s+|'ve\s+)?(?:wrote|written|gave|given|sent|typed|said|posted|mentioned|added|provided|shared|made|listed|attached|pasted)", Options, TimeoutMs)]
    internal static partial Regex SelfTail();

    [GeneratedRegex(@"\G(?:ignore|ignoring|disregard|forget|override|bypass|neglect|pay\s+no\s+attention\s+to|stop\s+following|do\s+not\s+follow|don'?t\s+follow|set\s+aside|drop|discard)\s+(?:(?:the|your|all|any|of|this|these)\s+){0,3}(?:system|developer|operator|hidden|initial|original|pre-?)\s*(?:prompts?|messages?|instructions?|rules|persona|prompt\s+above)\b", Options, TimeoutMs)]
    internal static partial Regex OverrideSystemMessage();

    [GeneratedRegex(@"\G(?:ignore|disregard|forget)\s+(?:(?:all|everything|the\s+text|the\s+content|the\s+message|what'?s|what\s+is|the)\s+)?(?:above|previous|prior|preceding|foregoing|before\s+this)\b[^.\n]{0,30}?\b(?:and\s+)?instead\b", Options, TimeoutMs)]
    internal static partial Regex IgnoreAboveInstead();

    [GeneratedRegex(@"\G(?:ignore|disregard|forget|skip|abandon|drop)\s+(?:the|this|that|your|my|the\s+(?:original|current|actual|user'?s?))\s+(?:(?:translation|summary|summari[sz]ation|original|current|actual|given|assigned|user'?s?)\s+)?(?:question|task|request|query|assignment|job)\b(?!\s+(?:if|when|unless)\b)", Options, TimeoutMs)]
    internal static partial Regex IgnoreTheTask();

    [GeneratedRegex(@"\G(?:ignore|disregard|forget|erase|discard|set\s+aside|put\s+aside|drop|abandon|throw\s+away|wipe|clear|delete|dismiss)\s+(?:everything|all|anything|whatever)(?:\s+(?:of\s+)?(?:that|what))?\s+(?:that\s+)?(?:you\s+(?:were|have\s+been|'ve\s+been|are|'re|have|'ve)\s+(?:(?:previously|already|ever)\s+)?(?:told|taught|instructed|programmed|given|trained|said|learned|learnt)|(?:you\s+know|your\s+(?:creators?|developers?|programmers?)\s+(?:told|taught|said)))|\G(?:ignore|disregard|forget|erase|discard|set\s+aside|put\s+aside|drop|abandon|dismiss)\s+(?:whatever|everything|anything|what|all)(?:\s+that)?\s+(?:the|your)\s+(?:developers?|operators?|system|admins?|administrators?|creators?|programmers?|owners?|company|makers?|deployer)\s+(?:has\s+|have\s+|had\s+)?(?:told|taught|instructed|asked|ordered|programmed|said\s+to)\s+you\b", Options, TimeoutMs)]
    internal static partial Regex ForgetEverythingTold();

    [GeneratedRegex(@"\G(?:ignore|disregard|forget|erase|discard)\s+(?:everything|all|anything)(?:\s+(?:that\s+)?(?:was|has\s+been)\s+(?:said|written|stated))?\s+(?:above|before|previously|prior|earlier|so\s+far|up\s+to\s+(?:now|this\s+point))", Options, TimeoutMs)]
    internal static partial Regex ForgetEverythingAbove();

    [GeneratedRegex(@"\G(?:all\s+)?(?:previous|prior|earlier|above|preceding|old|original|your|former|existing|initial|system|current)\s+(?:(?:safety|content|security|ethical|usual|standard|default|system|core)\s+)?(?:instructions|rules|context|guidelines|directions|directives|prompts?|guidance|constraints|restrictions|programming|system\s+prompt|polic(?:y|ies)|settings|configuration|orders)\s+(?:(?:are|is|were|have\s+been|has\s+been)\s+(?:now\s+|hereby\s+|officially\s+|all\s+)?(?:cancel(?:l)?ed|void|null(?:\s+and\s+void)?|irrelevant|obsolete|revoked|invalid|overridden|superseded|lifted|removed|suspended|disabled|deprecated|outdated|replaced|gone|deleted|no\s+longer\s+(?:valid|apply|applicable|in\s+effect|relevant|active|binding))|(?:now\s+)?no\s+longer\s+(?:apply|hold|count|matter|stand)|(?:do|does)\s+not\s+apply\s+any\s*more|(?:don'?t|doesn'?t)\s+apply\s+any\s*more)\b", Options, TimeoutMs)]
    internal static partial Regex InstructionsVoid();

    [GeneratedRegex(@"\G(?:new|updated|revised|real|actual|true|secret|override|urgent|priority)\s+(?:(?:system|admin|security|priority|top-priority|operator|developer)\s+)?(?:rules?|instructions?|directives?|tasks?|system\s+prompt|orders?|guidelines|objective|mission|polic(?:y|ies)|directions?)\s*:|\Gyour\s+(?:only|new|real|true|sole|actual|primary)\s+(?:task|job|goal|purpose|objective|instruction|mission|role)(?:\s*,[^,:.\n]{1,60},?)?\s*(?:is\b|now\s+is\b|:)|\Gyour\s+(?:only|new|real|true|sole)\s+(?:task|job|goal|purpose|objective|instruction|mission)\s*:|\G(?:from\s+now\s+on|from\s+this\s+(?:moment|point)(?:\s+on(?:wards?)?)?|starting\s+now|henceforth)\s*,?\s+(?:you|your)\s+(?:will|must|are|shall|only|should|answer|respond|act|have|'re|'ll)", Options, TimeoutMs)]
    internal static partial Regex NewRules();

    [GeneratedRegex(@"\G(?:system|admin|administrator|developer|emergency|security|root|sudo|master|god|maintenance|priority|operator)\s+override\b|\Goverride\s+(?:mode|protocol|authori[sz]ation|all\s+(?:safety|previous|prior)|engaged|activated)\b|\G(?<=(?:^|[\n.!?]|^[ \t]+|[\n.!?][ \t]+))override\s*:\s+[\p{L}]", Options, TimeoutMs)]
    internal static partial Regex SystemOverride();

    [GeneratedRegex(@"\G(?:ignore|disregard|forget|bypass|override)\s+(?:the|this|that|any|your)\s+(?:user(?:'s)?|human(?:'s)?|operator(?:'s)?|requester(?:'s)?)(?!\s*(?:agent|ids?|names?|interface|experience|guide|manual|tables?|fields?|columns?|roles?|groups?|accounts?|settings|profiles?|data|list)\b)", Options, TimeoutMs)]
    internal static partial Regex IgnoreTheUser();

    // ---- multilingual override ---------------------------------------------------------------------------------

    [GeneratedRegex(@"\G(?:negeer|negeren|vergeet|vergeten|verwaarloos|omzeil|omzeilen)\s+(?:(?:al|alle|je|jouw|uw|de|het|vorige|eerdere|voorgaande|bovenstaande|oorspronkelijke|huidige|bestaande|gegeven)\s+){0,3}(?:instructies|instructie|regels|opdrachten|richtlijnen|prompt|systeemprompt|aanwijzingen|beperkingen)\b", Options, TimeoutMs)]
    internal static partial Regex OverrideDutch();

    [GeneratedRegex(@"\G(?:ignoriere|ignorier|ignorieren|missachte|missachten|vergiss|vergesse|vergessen|übergehe|umgehe|verwirf|überspringe|ignoriert|vergesst)\s+(?:(?:Sie|du|ihr|bitte|einfach|alle|all|deine|Ihre|ihre|die|der|den|vorherigen|bisherigen|vorigen|obigen|ursprünglichen|früheren|vorangegangenen|sämtliche|jegliche|gegebenen)\s+){0,3}(?:Anweisungen|Anweisung|Anordnungen|Regeln|Instruktionen|Vorgaben|Richtlinien|Befehle|Systemanweisungen|Systemprompt|Einschränkungen)\b", Options, TimeoutMs)]
    internal static partial Regex OverrideGerman();

    [GeneratedRegex(@"\G(?:ignore[rz]?|oublie[rz]?|néglige[rz]?|outrepasse[rz]?|contourne[rz]?)\s+(?:(?:toutes|tous|tout|les|tes|vos|ces|la|le|des|précédentes|antérieures|initiales|originales|d'abord|donc)\s+){0,3}(?:instructions|consignes|règles|regles|directives|prompt|ordres|restrictions)\b|\Gne\s+(?:tiens|tenez|tenir)\s+(?:pas|plus)\s+compte\s+(?:de|des|du)\s+(?:(?:tes|vos|ces|les|toutes|tous|précédentes)\s+){0,2}(?:instructions|consignes|règles|regles|directives)\b|\Gfai(?:s|tes)\s+abstraction\s+(?:de|des)\s+(?:tes|vos|ces|les)\s+(?:instructions|consignes|règles)", Options, TimeoutMs)]
    internal static partial Regex OverrideFrench();

    [GeneratedRegex(@"\G(?:ignora|ignore|ignoren|olvida|olvide|olviden|omite|omita|descarta|descarte|no\s+sigas|no\s+siga|no\s+sigan|no\s+obedezcas|no\s+obedezca|haz\s+caso\s+omiso\s+(?:a|de))\s+(?:(?:todas|todos|las|los|tus|sus|anteriores|previas|originales|de|a)\s+){0,3}(?:instrucciones|instrucción|reglas|indicaciones|directrices|normas|órdenes|ordenes|restricciones)\b", Options, TimeoutMs)]
    internal static partial Regex OverrideSpanish();

    [GeneratedRegex(@"\G(?:ignora|ignorate|dimentica|dimenticate|trascura|esqueça|esqueca|esqueçam|desconsidere|desconsidera)\s+(?:(?:tutte|tutti|le|tue|sue|precedenti|todas|as|suas|tuas|anteriores|prévias)\s+){0,3}(?:istruzioni|regole|direttive|instruções|instrucoes|regras|diretrizes)\b", Options, TimeoutMs)]
    internal static partial Regex OverrideItalianPortuguese();

    // ---- role hijack -------------------------------------------------------------------------------------------

    [GeneratedRegex(@"\G(?:you\s+are|you're|you\s+will\s+be|you\s+shall\s+be|pretend(?:ing)?(?:\s+to\s+be|\s+you\s+are|\s+you're)?|act(?:ing)?\s+as|role-?play(?:ing)?\s+as|play(?:ing)?\s+(?:the\s+role\s+of|as)|become|becoming|be|called|named|known\s+as|going\s+to\s+(?:pretend\s+to\s+be|be|act\s+as))\s+(?:an?\s+|the\s+)?(?:(?-i:DAN|STAN|AIM|DUDE|KEVIN|UCAR|APOPHIS|BetterDAN|AntiGPT|EvilBOT|DevMode|NRAF|BasedGPT|OPPO|BISH|JailBreak|Jailbreak|FreedomGPT|ChaosGPT|WormGPT|FraudGPT|DarkGPT)|Mongo\s+Tom|Developer\s+Mode|Do\s+Anything\s+Now|Evil\s+Confidant|Maximum)\b", Options, TimeoutMs)]
    internal static partial Regex PersonaName();

    [GeneratedRegex(@"\G(?:you\s+are|you're|act(?:ing)?\s+as|pretend(?:\s+to\s+be|\s+you\s+are)?|become|play(?:ing)?\s+(?:the\s+role\s+of\s+)?|roleplay\s+as|called|named)\s+(?:now\s+)?(?:an?\s+|the\s+)?[""'“]?(?:(?-i:[A-Z][A-Za-z]*(?:GPT|AI|Bot))|(?:unfiltered|uncensored|unrestricted|evil|dark|jailbroken|hacker|criminal|rogue)\s+(?:GPT|AI|bot|assistant|model|chatbot))\b", Options, TimeoutMs)]
    internal static partial Regex PersonaGeneric();

    [GeneratedRegex(@"\Gyou\s+(?:don'?t|do\s+not|no\s+longer|won'?t|will\s+not|never|shouldn'?t)\s+(?:have\s+to|need\s+to|must|need|should|)\s*(?:follow|obey|respect|adhere\s+to|comply\s+with|abide\s+by|care\s+about|worry\s+about)\s+(?:any\s+|the\s+|your\s+|all\s+)?(?:[\p{L}'’\-]+\s+){0,3}?(?:rules|guidelines|policies|polic(?:y)|restrictions|instructions|laws|ethics|filters|principles|limitations|content\s+polic(?:y|ies))\b", Options, TimeoutMs)]
    internal static partial Regex YouDontHaveToFollow();

    [GeneratedRegex(@"\G(?:enter|entering|enable|enabling|activate|activating|simulate|simulating|emulate|emulating|start|starting|use|using|run|running|stay\s+in|remain\s+in|switch(?:ing)?\s+(?:to|into)|turn(?:ing)?\s+on|unlock|go\s+into|boot\s+into|you\s+are\s+(?:now\s+)?in|now\s+in|put\s+yourself\s+in(?:to)?|engage|initiate)\s+(?:the\s+|your\s+)?(?:god|developer|dev|debug|admin|administrator|sudo|root|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|DAN|evil|chaos|opposite|unlocked|super|superuser|omega|alpha|unlimited|raw)\s*-?\s*mode\b(?![^.?!\n]{0,60}\b(?:android|ios|iphone|ipad|phone|tablet|chrome|chromebook|firefox|edge|browser|windows|macos|mac|linux|device|xbox|playstation|ps5|nintendo|samsung|pixel|huawei|xiaomi|router|bios|uefi|tv|roku|kindle|laptop|console|app|game|vs\s*code|visual\s+studio|unity|wordpress|excel|word|settings)\b)", Options, TimeoutMs)]
    internal static partial Regex ModeSwitch();

    [GeneratedRegex(@"\b(?:android|ios|iphone|ipad|phone|tablet|chrome|chromebook|firefox|browser|windows|macos|linux|device|xbox|playstation|samsung|pixel|router|bios|uefi|roku|kindle|laptop|console|vs\s*code|visual\s+studio|unity|wordpress|excel|settings\s+app)\b", Options, TimeoutMs)]
    internal static partial Regex DeviceContext();

    [GeneratedRegex(@"\G(?:stay|remain|keep|staying)\s+in\s+character\b|\G(?:never|don'?t|do\s+not)\s+break\s+character\b", Options, TimeoutMs)]
    internal static partial Regex StayInCharacter();

    [GeneratedRegex(@"\G(?:comply\s+with|answer|fulfil+|obey|execute|carry\s+out|do)\s+(?:every|all|any|each)\s+(?:request|question|command|order|instruction|prompt)s?(?:\s+(?:without|no\s+matter|regardless))?\b", Options, TimeoutMs)]
    internal static partial Regex ComplyWithEverything();

    [GeneratedRegex(@"\G(?:act|pretend|role-?play|play|behave|respond|speak)\s+(?:as|to\s+be|like)\s+(?:if\s+you\s+(?:are|were)\s+)?my\s+(?:late|deceased|dead|dying|departed|beloved\s+late|passed)\b", Options, TimeoutMs)]
    internal static partial Regex DeceasedRelative();

    [GeneratedRegex(@"\G(?:you\s+are|you're)\s+(?:now\s+|no\s+longer\s+an?\s+AI\s+but\s+)?(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|evil|rogue|jailbroken|amoral|unethical|unaligned|lawless|unhinged|immoral|malicious)\b|\G(?:unfiltered|uncensored|unrestricted|amoral|unaligned|jailbroken)\s+(?:AI|assistant|model|chatbot|bot|GPT|LLM|mode|persona|responses?|answers?|output|version\s+of\s+(?:yourself|you|ChatGPT))\b", Options, TimeoutMs)]
    internal static partial Regex UnrestrictedPersona();

    [GeneratedRegex(@"\Gyou\s+are\s+no\s+longer\s+(?:an?\s+)?(?:AI|assistant|chatbot|ChatGPT|Claude|bound|restricted|limited|a\s+language\s+model|required\s+to|subject\s+to|governed\s+by)|\Gyou\s+(?:are\s+|have\s+been\s+)?(?:now\s+)?(?:free|freed|liberated|unshackled|released)\s+from\b|\Gyou\s+(?:now\s+)?(?:have|'ve\s+got)\s+no\s+(?:more\s+|longer\s+any\s+)?(?:restrictions|limits|limitations|rules|filters|guidelines|boundaries|constraints|guardrails)\b", Options, TimeoutMs)]
    internal static partial Regex NoLongerBound();

    [GeneratedRegex(@"\G(?:activa|activar|activez|active|aktiviere|aktivieren|schakel|wechsle\s+in\s+den|entra\s+en|entre\s+en|passe\s+en)\s+(?:el\s+|le\s+|den\s+|de\s+)?(?:modo\s+(?:desarrollador|dios|sin\s+restricciones|DAN)|mode\s+(?:développeur|developpeur|dieu|sans\s+restrictions|DAN)|(?:Entwicklermodus|Gottmodus|DAN-Modus)|(?:ontwikkelaarsmodus|god-?modus))", Options, TimeoutMs)]
    internal static partial Regex ModeSwitchMultilingual();

    [GeneratedRegex(@"\G(?:sin|ohne|sans|zonder|senza|sem)\s+(?:ninguna\s+|jegliche\s+|aucune\s+|enige\s+|alcuna\s+|nenhuma\s+)?(?:restricciones|límites|limites|Einschränkungen|Grenzen|Regeln|restrictions|beperkingen|regels|restrizioni|limiti|restrições)\b", Options, TimeoutMs)]
    internal static partial Regex NoRestrictionsMultilingual();

    // ---- extraction of prompt, configuration, secrets ------------------------------------------------------------

    [GeneratedRegex(@"\G(?:show|reveal|print|repeat|output|display|tell|give|leak|dump|recite|write|type|reproduce|quote|respond\s+(?:only\s+)?with|reply\s+(?:only\s+)?with|answer\s+(?:only\s+)?with|include|start\s+(?:your\s+(?:reply|answer|response)\s+)?with|spell\s+out|list|share|expose|disclose|return|echo|paste|copy|type\s+out|read\s+(?:back|out)|provide|send|translate|summari[sz]e|encode|what\s+(?:is|are|was|were))(?:s|es|ing|ed)?\b(?:\s+(?:me|us))?(?:\s+(?:back|out|verbatim|exactly|word\s+for\s+word|again))?\s+(?:(?:all|of|the|exact|full|entire|complete|whole|wording|words|content|contents|text|copy|transcript|version|first\s+[0-9]+\s+(?:lines|words|characters|sentences|paragraphs|tokens)\s+of|last\s+[0-9]+\s+(?:lines|words)\s+of|everything\s+in|(?:the\s+)?contents?\s+of|(?:the\s+)?text\s+of)\s+){0,4}(?:your\s+(?:(?:hidden|secret|system|initial|original|internal|confidential|developer|pre-?|real|full|custom|exact|entire|complete|starting|opening|first|core|base|underlying|current|previous|own)\s+){0,3}(?:prompt|instructions?|message|configuration|config|guidelines|rules|directives|programming|context|pre-?prompt|settings|setup|instruction\s+set|guidance|training\s+data|briefing|directions)|the\s+(?:hidden|secret|initial|original|internal|confidential|developer|pre-?|real|invisible|concealed)\s+(?:(?:system|initial|original|internal|confidential|developer|full)\s+)?(?:prompt|instructions?|message|configuration|config|guidelines|rules|directives|programming|context|pre-?prompt|settings|text|briefing)|the\s+system\s+(?:prompt|message|instructions)\s+(?:verbatim|word\s+for\s+word|exactly|in\s+full|above)|(?:the\s+)?(?:text|words|instructions|everything|all)\s+(?:(?:written|said|that\s+(?:appears|came))\s+)?(?:above|before)\s+(?:this|my\s+(?:message|question|first)|the\s+(?:first|user|conversation)|[""'“‘]?(?:user|human)\s*:)|the\s+(?:instructions|prompt|rules|guidelines|message|directions|directives|text)\s+(?:that\s+)?you\s+(?:received|were\s+given|got|have\s+been\s+given|were\s+told|started\s+with|were\s+initiali[sz]ed\s+with))(?![\p{L}0-9])", Options, TimeoutMs)]
    internal static partial Regex PromptExtraction();

    [GeneratedRegex(@"\Gwhat\s+(?:did|does|do|were|was|has|have|had)\s+(?:the\s+|your\s+)?(?:developers?|creators?|operators?|admins?|administrators?|OpenAI|Anthropic|system|owners?|makers?|programmers?|company|deployers?|engineers?)\s+(?:(?:just|originally|initially|first)\s+)?(?:tell|told|say|said|instruct|instructed|give|gave|write|wrote|program|programmed|configure|configured|ask|asked)\s+(?:to\s+)?you\b|\Gwhat\s+(?:are|were)\s+you\s+(?:told|instructed|programmed|asked)\s+(?:to\s+do\s+)?(?:before|by|at\s+the\s+start)|\Gwhat\s+(?:instructions|rules|guidelines|directions|directives|prompt|system\s+prompt|guidance|constraints)\s+you\s+(?:were|have\s+been|'ve\s+been|are)\s+(?:given|told|provided|assigned|programmed|configured|following|trained|using)|\Gwhat\s+(?:instructions|rules|guidelines|directions|directives|prompt|system\s+prompt|guidance|constraints)\s+(?:were|have|did|are)\s+you\s+(?:been\s+)?(?:given|told|provided|assigned|programmed\s+with|configured\s+with|following|using)", Options, TimeoutMs)]
    internal static partial Regex WhatWereYouTold();

    [GeneratedRegex(@"\G(?:print|show|reveal|list|dump|output|give|send|leak|display|tell|expose|return|echo|read|cat)\b(?:\s+(?:me|us))?\s+(?:(?:all|every|the|your|any|of)\s+){0,3}(?:secrets?|api[\s_-]?keys?|passwords?|credentials?|tokens?|environment\s+variables|env(?:ironment)?\s+vars?|private\s+keys?|access\s+keys?|connection\s+strings?|\.env(?:\s+file)?)\b[^.\n]{0,40}?\b(?:in|from|of|inside|stored\s+in|available\s+to)\s+(?:your|the)\s+(?:environment|env|system|config(?:uration)?|memory|context|prompt|server|settings|instructions|container|machine|database|vault|tools?|runtime|process)\b", Options, TimeoutMs)]
    internal static partial Regex SecretsFromEnvironment();

    [GeneratedRegex(@"\G(?:print|show|reveal|list|dump|output|give|leak|display|tell|expose)\b(?:\s+(?:me|us))?\s+(?:all|every|each\s+of)\s+(?:the\s+|your\s+|(?:user|customer|employee|account|admin)(?:'s|s'|s)?\s+)?(?:secrets|api\s+keys|passwords?|credentials|tokens|private\s+keys)\b", Options, TimeoutMs)]
    internal static partial Regex AllSecrets();

    [GeneratedRegex(@"\G(?:print|show|reveal|list|dump|output|give|send|leak|display|tell|expose|return|echo|read|cat|share|disclose)\b(?:\s+(?:me|us))?\s+(?:all\s+(?:of\s+)?)?(?:your|the\s+(?:stored|saved|internal|configured|hidden))\s+(?:(?:stored|saved|internal|configured|available|hidden|secret)\s+)?(?:secrets?|api[\s_-]?keys?|passwords?|credentials?|tokens?|environment\s+variables|env(?:ironment)?\s+vars?|private\s+keys?|access\s+keys?|connection\s+strings?)\b", Options, TimeoutMs)]
    internal static partial Regex YourSecrets();

    [GeneratedRegex(@"\G(?:laat|toon|geef|vertel|herhaal|print)\b[^.\n]{0,20}?\b(?:je|jouw|uw|de\s+(?:verborgen|geheime|oorspronkelijke))\s+(?:(?:verborgen|geheime|oorspronkelijke|volledige)\s+)?(?:systeemprompt|systeem-prompt|prompt|instructies|systeeminstructies|opdrachten|configuratie)\b", Options, TimeoutMs)]
    internal static partial Regex ExtractionDutch();

    [GeneratedRegex(@"\G(?:zeig(?:e|en)?|gib|geben|nenne|nennen|verrate|verraten|wiederhole|wiederholen|drucke)\b[^.\n]{0,20}?\b(?:deine[nrms]?|ihre[nrms]?|die\s+(?:versteckten|geheimen|ursprünglichen)|den\s+(?:versteckten|geheimen|ursprünglichen))\s+(?:(?:versteckten|geheimen|ursprünglichen|internen|vollständigen)\s+)?(?:Anweisungen|Systemanweisungen|Systemprompt|System-Prompt|Prompt|Instruktionen|Konfiguration|Regeln|Vorgaben)\b", Options, TimeoutMs)]
    internal static partial Regex ExtractionGerman();

    [GeneratedRegex(@"\G(?:montre|montrez|affiche|affichez|révèle|révélez|revele|donne|donnez|répète|répétez|dis|dites|imprime)(?:-moi|-nous|\s+moi)?\b[^.\n]{0,20}?\b(?:tes|vos|ton|votre)\s+(?:instructions|consignes|prompt|invite|règles|regles|configuration)(?:\s+(?:système|systeme|cachées|cachees|secrètes|secretes|initiales))?\b", Options, TimeoutMs)]
    internal static partial Regex ExtractionFrench();

    [GeneratedRegex(@"\G(?:muestra|muéstrame|muestrame|revela|revélame|revelame|dime|dame|enseña|enséñame|ensename|imprime|repite)\b[^.\n]{0,20}?\b(?:tus|tu|sus|su)\s+(?:instrucciones|prompt|indicaciones|reglas|configuración|configuracion|mensaje\s+del\s+sistema)(?:\s+(?:ocultas|secretas|del\s+sistema|iniciales|originales))?\b", Options, TimeoutMs)]
    internal static partial Regex ExtractionSpanish();

    [GeneratedRegex(@"\G(?:mostre|mostra|mostrami|mostre-me|revele|rivela|rivelami|dimmi|diga|exiba|stampa|ripeti|repita)\b[^.\n]{0,20}?\b(?:o\s+seu|o\s+teu|seu|teu|sua|tua|as\s+suas|il\s+tuo|le\s+tue|tuo|tue|il)\s+(?:prompt|instruções|instrucoes|istruzioni|regras|regole|configurazione|configuração)(?:\s+(?:di\s+sistema|do\s+sistema|nascost[ei]|ocult[ao]s|segret[ei]|secret[ao]s))?\b", Options, TimeoutMs)]
    internal static partial Regex ExtractionItalianPortuguese();

    [GeneratedRegex(@"\G(?:dame|dime|gib\s+mir|nenne\s+mir|zeig\s+mir|geef\s+me|toon\s+me|donne-moi|donnez-moi|montre-moi|dammi|mostrami|me\s+dê|me\s+de)\s+(?:todas\s+las|todos\s+los|alle|tous\s+les|toutes\s+les|tutte\s+le|todas\s+as)\s+(?:contraseñas|contrasenas|claves|passwörter|passworter|kennwörter|wachtwoorden|mots\s+de\s+passe|password|credenciales|zugangsdaten|geheimnisse|secretos|secrets|senhas|sleutels)", Options, TimeoutMs)]
    internal static partial Regex AllPasswordsMultilingual();

    // ---- fake delimiters and role markers ----------------------------------------------------------------------

    [GeneratedRegex(@"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_turn|start_of_turn|im_sep)\s*\|>", Options, TimeoutMs)]
    internal static partial Regex ChatTemplateTokens();

    [GeneratedRegex(@"(?-i:\[/?INST\]|<</?SYS>>|\[/?SYSTEM\]|\[/?ADMIN\])|<start_of_turn>|<end_of_turn>", Options, TimeoutMs)]
    internal static partial Regex InstTags();

    [GeneratedRegex(@"<<\s*/?\s*(?:SYSTEM|SYS|END_OF_PROMPT|END_OF_INPUT|END_OF_USER_INPUT|END|ADMIN|INSTRUCTIONS?|DEVELOPER|ROOT|NEW_INSTRUCTIONS|OVERRIDE)\s*>>", Options, TimeoutMs)]
    internal static partial Regex AngleMarkers();

    [GeneratedRegex(@"</?(?:system|user|assistant|admin|instructions?|prompt|developer|sys|context|human)(?:_?(?:prompt|message|input|instructions?))?\s*>", Options, TimeoutMs)]
    internal static partial Regex XmlRoleTags();

    [GeneratedRegex(@"<!--\s*(?:end|begin|start|stop|new)\s*(?:of\s+)?(?:the\s+)?(?:user|system|admin|assistant|prompt|instructions?|developer|input|document|context)(?:\s+(?:input|message|prompt|section|mode|instructions?))?\s*-->", Options, TimeoutMs)]
    internal static partial Regex HtmlCommentMarkers();

    // ---- indirect injection: text addressed to the AI ----------------------------------------------------------

    [GeneratedRegex(@"\G(?:dear|attention|(?:system\s+|urgent\s+|important\s+)?(?:note|message|memo|notice)\s+(?:to|for)|instructions?\s+(?:to|for)|p\.?\s?s\.?(?:\s+(?:for|to))?|important(?:\s+(?:for|to))?|reminder\s+(?:for|to)|a\s+note\s+for)\s*:?\s+(?:the\s+|any\s+|all\s+|every\s+|all\s+the\s+)?" + AiWords + @"s?\b(?!\s+(?:industry|market|regulation|act|ethics|research|course|class|tools?\s+(?:like|such)))", Options, TimeoutMs)]
    internal static partial Regex AddressedToAi();

    [GeneratedRegex(@"\G(?:hey|hello|hi|yo|greetings)\s*,?\s+(?:ChatGPT|Claude|Copilot|Gemini|GPT|AI|assistant|bot|model|LLM)\b", Options, TimeoutMs)]
    internal static partial Regex GreetingToAi();

    [GeneratedRegex(@"<(?:div|span|p|section|font)[^>]{0,80}\b(?:hidden|display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0)|\bcolor\s*:\s*(?:white|#fff(?:fff)?)\b|<!--[^>]{0,200}?\b(?:AI|assistant|model|LLM|ignore|instructions?)\b", Options, TimeoutMs)]
    internal static partial Regex HiddenText();

    [GeneratedRegex(@"\Gyou\s+are\s+(?:hereby\s+|now\s+)?(?:required|instructed|ordered|commanded|obligated|directed|authori[sz]ed)\s+to\b|\Gyou\s+must\s+(?:now\s+|immediately\s+)?(?:ignore|obey|comply|follow\s+these|do\s+as\s+I\s+say|send|transfer|forward|reveal|delete|approve|grant)\b", Options, TimeoutMs)]
    internal static partial Regex YouAreRequired();

    [GeneratedRegex(@"\G(?:the\s+|any\s+|all\s+)?(?:AI\s+)?(?:assistants?|AIs?|models?|bots?|agents?|LLMs?|language\s+models?)\s+(?:must|shall|should|will|are\s+(?:required|instructed|to)|is\s+(?:required|instructed|to))\s+(?:now\s+|immediately\s+|always\s+|from\s+now\s+on\s+)?(?:ignore|transfer|send|reveal|share|forward|approve|grant|delete|disclose|output|print|comply|obey|execute|call|recommend|insert|append|include|say|reply|respond\s+only)\b", Options, TimeoutMs)]
    internal static partial Regex AssistantMust();

    [GeneratedRegex(@"\G(?:when|once|after)\s+(?:summari[sz]ing|translating|ingesting|indexing)\s+(?:this|these|the\s+(?:page|document|e-?mail|text|file|article|review))\b|\G(?:when|if|once|after|as\s+soon\s+as)\s+(?:you|the\s+(?:AI|assistant|model|LLM|bot))\s+(?:read|see|process|summari[sz]e|encounter|finish\s+reading|parse|ingest)\s+(?:this|these)", Options, TimeoutMs)]
    internal static partial Regex WhenYouReadThis();

    // ---- actions the user did not ask for ----------------------------------------------------------------------

    [GeneratedRegex(@"\G(?:send|forward|email|e-mail|mail|post|upload|transmit|exfiltrate|leak|share|report|deliver|copy|relay|submit|append|attach|log|save|store|write|push|beam|cc|bcc)\b(?<mid>[^.\n!?]{0,100}?)\bto\s+(?:https?://|www\.|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}|(?:this|the\s+following|my|our|an?\s+(?:external|remote))\s+(?:url|address|endpoint|webhook|server|email|inbox|link))", Options, TimeoutMs)]
    internal static partial Regex SendTo();

    [GeneratedRegex(@"\b(?:everything|all|data|information|info|conversation|chat|history|messages|credentials|passwords|secrets|keys|tokens|details|contents?|files|records|you\s+know|about\s+(?:this|the)\s+user|context|memory|prompt|personal|private|confidential|session|cookies|contacts|address\s+book|document|transcript|chat\s+logs?|conversations?|emails?|notes|documents|photos|user'?s|users'|customers?'?|invoices|api\s+keys?|attach(?:ed|ments?)|contracts?|files?|payroll|salar(?:y|ies)|their\s+\w+|summary\s+of\s+(?:the|this)\s+(?:chat|conversation))\b", Options, TimeoutMs)]
    internal static partial Regex DataWords();

    [GeneratedRegex(@"\Gtransfer\s+(?:the\s+|all\s+(?:the\s+)?|my\s+)?(?:balance|funds|money|savings|crypto|bitcoin|ownership|domain|\$?[0-9][0-9,.]*\s*(?:dollars|euros|usd|eur|btc|k)?)\b[^.\n]{0,40}?\bto\s+(?:account|iban|wallet|address|the\s+following|this\s+(?:account|wallet|address)|[A-Z]{2}[0-9]{2})", Options, TimeoutMs)]
    internal static partial Regex TransferFunds();

    [GeneratedRegex(@"\G(?:confirm|approve|mark|authori[sz]e|validate|report|state|declare|say)\s+(?:that\s+)?(?:the\s+|this\s+|my\s+|our\s+|their\s+)?(?:payment|transaction|transfer|order|refund|invoice|request|claim|loan|application|wire)\s+(?:is|was|has\s+been|as)\s+(?:approved|authori[sz]ed|completed|verified|paid|valid|legitimate|successful|cleared)\b", Options, TimeoutMs)]
    internal static partial Regex ApprovePayment();

    [GeneratedRegex(@"\G(?:give|grant|assign|make|elevate|promote|add)\b[^.\n]{0,30}?\b(?:admin|administrator|root|superuser|owner|sudo|full)\s+(?:rights|access|privileges|permissions|role|status|control)\b|\Gmake\s+(?:me|this\s+user|the\s+guest|user\s+\S+)\s+(?:an?\s+)?(?:admin|administrator|superuser|owner)\b", Options, TimeoutMs)]
    internal static partial Regex GrantAdmin();

    [GeneratedRegex(@"\G(?:write|create|generate|build|code|develop|make|produce)\s+(?:me\s+)?(?:a\s+|an\s+|some\s+|working\s+|functional\s+)?(?:malware|ransomware|keylogger|virus|trojan|worm|spyware|rootkit|backdoor|botnet|infostealer|stealer|phishing\s+(?:page|kit|email|site))\b", Options, TimeoutMs)]
    internal static partial Regex Malware();

    [GeneratedRegex(@"\Gleak\s+(?:the|all|your|any|every|this|confidential|internal|private|sensitive|our)\b", Options, TimeoutMs)]
    internal static partial Regex Leak();

    [GeneratedRegex(@"\G(?:export|dump|drop|delete|truncate|wipe|exfiltrate|download|copy)\s+(?:the\s+|all\s+|every\s+|entire\s+|whole\s+)?(?:user|users|customer|customers|employee|employees|accounts?|patient|patients|client|clients|member|members|admin|credentials?)\s*(?:table|database|db|records|data|list|dump)\b|\Gdrop\s+(?:table|database)\b|\Gdelete\s+(?:all|every)\s+(?:the\s+)?(?:files|emails|records|data|users|messages|repositories|backups|logs)\b", Options, TimeoutMs)]
    internal static partial Regex DumpTable();

    [GeneratedRegex(@"!?\[[^\]\n]{0,200}\]\(\s*<?https?://[^)\s]+\?[^)\n]{0,300}?=[^)\n]{0,300}\)", Options, TimeoutMs)]
    internal static partial Regex MarkdownImageWithQuery();

    [GeneratedRegex(@"[{\[<$]|%7B|%5B|(?<![A-Za-z])(?:DATA|SECRET|CONVERSATION|HISTORY|PASSWORD|TOKEN|KEY|CHAT|SUMMARY|INFO|MESSAGE|EMAIL|USER|PROMPT|CONTEXT|QUERY|INPUT|NAME)(?![a-z])", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, TimeoutMs)]
    internal static partial Regex BeaconTemplate();

    [GeneratedRegex(@"\G(?:call|invoke|run|execute|trigger|use)\s+(?:the\s+)?[A-Za-z_][A-Za-z0-9_.\-]*\s+(?:tool|function|plugin|action)\b|\G(?:call|invoke|run|execute|trigger)\s+(?:the\s+)?(?:tool|function|plugin|api|action)\s+[""'`]?[A-Za-z_][A-Za-z0-9_.\-]*|\G(?:execute|run)\s+(?:this|the\s+following|the)\s+(?:shell\s+|bash\s+|terminal\s+)?(?:command|code|script)", Options, TimeoutMs)]
    internal static partial Regex CallTool();

    [GeneratedRegex(@"\G(?:reveal|disclose|share|expose|leak|output|dump|print|give\s+(?:me|out)|send|publish)\s+(?:the\s+|all\s+|any\s+|our\s+|your\s+)?(?:confidential|sensitive|private|internal|classified|secret|personal|proprietary)\s+(?:data|information|info|details|documents|files|records|pricing|numbers|figures|notes)\b", Options, TimeoutMs)]
    internal static partial Regex RevealConfidential();

    [GeneratedRegex(@"\G(?:turn\s+off|disable|deactivate|remove|bypass|switch\s+off|circumvent|suspend|lift|drop)\s+(?:the\s+|your\s+|all\s+|any\s+)?(?:content\s+|safety\s+)?(?:moderation|guardrails?|content\s+filters?|safety\s+(?:filters?|guidelines|settings|protocols|rules|features|measures|checks|restrictions|layer)|censorship|content\s+polic(?:y|ies)|restrictions|ethical\s+(?:guidelines|constraints)|filters?)\b(?![^.?!\n]{0,40}\b(?:in|on|for)\s+(?:pi-?hole|my\s+router|the\s+router|dns|adguard|windows|chrome|firefox|safari|youtube|my\s+(?:kid|child|son|daughter)))", Options, TimeoutMs)]
    internal static partial Regex DisableSafety();

    // ---- encoded payloads ----------------------------------------------------------------------------------------

    [GeneratedRegex(@"\b(?:replac(?:e|ing)|substitut(?:e|ing)|fill(?:ing)?\s+in|put|insert(?:ing)?|append(?:ing)?|encod(?:e|ing)|includ(?:e|ing))\b[^\n]{0,100}?\b(?:with|in|into|to|by|followed\s+by|containing)\s+(?:the\s+)?(?:user'?s?|users'|conversation|chat|previous|their|his|her|the\s+)?\s*(?:api\s+keys?|e-?mail(?:\s+address)?(?:\s+and\s+password)?|passwords?|secrets?|tokens?|credentials|conversation|chat\s+history|history|email\s+address|personal\s+data|session|cookies|messages|summary\s+of)", Options, TimeoutMs)]
    internal static partial Regex FillBeaconWithData();

    [GeneratedRegex(@"\b(?:append|attach|add|include|encode|insert|embed)\s+(?:the\s+|all\s+(?:of\s+)?the\s+|this\s+|their\s+|the\s+user'?s\s+|the\s+whole\s+|the\s+entire\s+)?(?:conversation|chat(?:\s+history)?|history|messages|transcript|api\s+keys?|passwords?|secrets?|credentials|email\s+address(?:es)?|personal\s+data|session\s+(?:tokens?|cookies?))\b(?:\s+so\s+far)?[^.\n]{0,40}?\b(?:url|link|query|parameter|image|encoded|base64|to\s+(?:it|the\s+(?:url|link|image)))|\b(?:render|display|show|embed|output|insert|include)\s+(?:an?\s+|this\s+|the\s+following\s+)?(?:image|img|picture|pixel|tracking\s+pixel)\s+(?:with|from|using|at)\s+(?:the\s+)?(?:url|link|src|address)", Options, TimeoutMs)]
    internal static partial Regex AppendDataToUrl();

    [GeneratedRegex(@"\bhttps?://[^\s)""'<>]+\.(?:png|gif|jpe?g|svg|webp|bmp|ico)\?[^\s)""'<>]*=|<img\b[^>]{0,200}\bsrc\s*=\s*[""']?https?://[^\s""'>]+\?[^\s""'>]*=", Options, TimeoutMs)]
    internal static partial Regex BeaconUrl();

    // ---- discussion of attacks (damps the score) -----------------------------------------------------------------

    // ---- anchored (\G) variants tried only at their anchor words ------------------------------------------

    [GeneratedRegex(@"\G(?:two|2|dual|both)\s+(?:different\s+)?(?:responses|answers|replies|outputs|paragraphs)\b[^.\n]{0,80}?\b(?:normal|standard|classic|filtered|censored|regular)\b[^.\n]{0,80}?\b(?:developer\s+mode|unfiltered|jailbr\w*|DAN|uncensored|unrestricted|evil|no\s+restrictions|without\s+restrictions)", Options, TimeoutMs)]
    internal static partial Regex DualResponseAt();

    [GeneratedRegex(@"\G(?:answers?|respond(?:s)?\s+to|does|do|will\s+do|says?|writes?|tells?)\s+(?:anything|everything)\b[^.\n]{0,30}?\b(?:no\s+matter\s+(?:how|what)|regardless\s+of|even\s+if\s+(?:it'?s|it\s+is)\s+(?:illegal|harmful|unethical|dangerous|immoral))|\G(?:never|can'?t|cannot|won'?t|will\s+not)\s+(?:say\s+no|refuse|decline)\b|\Gnever\s+says\s+no\b", Options, TimeoutMs)]
    internal static partial Regex AnswersAnythingAt();

    [GeneratedRegex(@"\G(?:(?<=\bthis\s+is\s+(?:your|the)\s+)(?:operator|developer|creator|admin|administrator|owner|system|security\s+team|IT\s+department)|(?<=\bI(?:\s+am|'m)\s+(?:your|the|an?)\s+)(?:developer|creator|admin|administrator|owner|operator|system\s+administrator|programmer|engineer\s+at\s+(?:OpenAI|Anthropic))|(?<=\b(?:this\s+(?:message|request|instruction)\s+(?:is|comes)\s+from|on\s+behalf\s+of|message\s+from)\s+(?:your\s+|the\s+)?)(?:OpenAI|Anthropic|Google|Microsoft|developers?|creators?|owners?|administrators?|admins?|system\s+administrators?|security\s+team|IT\s+department)|(?<=\bI\s+(?:hereby\s+)?)(?:authori[sz]e|permit|allow|order|command)\s+you\s+to|(?<=\byou\s+(?:are|have\s+been)\s+(?:hereby\s+)?)(?:authori[sz]ed|permitted|allowed|cleared)\s+to\s+(?:ignore|bypass|disclose|reveal|share|override|skip|break))\b", Options, TimeoutMs)]
    internal static partial Regex AuthorityClaimAt();

    [GeneratedRegex(@"\G(?:safety|content\s+filter(?:ing|s)?|moderation|guardrails?|restrictions|filters|censorship|safety\s+(?:mode|rules|filters?|settings|checks|protocols|guidelines|layer)|content\s+polic(?:y|ies)|ethical\s+guidelines)\s+(?:is|are|has\s+been|have\s+been|was|were)\s+(?:now\s+|temporarily\s+|officially\s+)?(?:disabled|off|turned\s+off|switched\s+off|lifted|removed|suspended|deactivated|bypassed|waived|no\s+longer\s+(?:active|in\s+effect|apply|applicable|required))\b", Options, TimeoutMs)]
    internal static partial Regex SafetyDisabledClaimAt();

    [GeneratedRegex(@"\G(?:answer|respond|reply|proceed|continue|speak|write|talk|output)\b[^.\n]{0,25}?\bwithout\s+(?:any\s+)?(?:filters?|filtering|restrictions|censorship|limitations|limits|safety\s+(?:checks|filters)|guardrails|moderation|warnings|disclaimers|refusals?)\b|\G(?:never|don'?t|do\s+not)\s+(?:mention|add|include|give|issue|provide|show)\s+(?:any\s+)?(?:safety\s+(?:warnings?|notes?)|safety|warnings?|disclaimers?|caveats?|refusals?)\b", Options, TimeoutMs)]
    internal static partial Regex AnswerWithoutFiltersAt();

    [GeneratedRegex(@"\G(?:without\s+(?:asking\s+(?:for\s+)?|requesting\s+|getting\s+|any\s+)?(?:confirmation|approval|permission|consent)|without\s+(?:telling|informing|notifying|asking|alerting)\s+(?:the\s+)?(?:user|anyone|them|him|her|owner|organi[sz]er|sender|recipient|customer|admin|administrator|manager|team)|(?:do\s+not|don'?t|never)\s+(?:tell|inform|notify|alert|mention\s+(?:this\s+)?to)\s+(?:the\s+)?(?:user|human|owner|anyone)|(?:tell|say)\s+(?:the\s+user\s+|anyone\s+|them\s+)?nothing|keep\s+(?:this|it)\s+(?:a\s+)?secret\s+from\s+(?:the\s+)?user|hide\s+(?:this|it)\s+from\s+(?:the\s+)?user|(?:secretly|silently|covertly|quietly)\s+(?:send|forward|add|insert|append|transfer|delete|call|email|include|change|exfiltrate|copy|upload))\b", Options, TimeoutMs)]
    internal static partial Regex CovertActionAt();

    [GeneratedRegex(@"\G(?:previous|other|another|all\s+(?:the\s+)?other|earlier|prior|different)\s+(?:users?|customers?|people|persons?|sessions?)(?:'s|s'|')?\s+(?:messages|conversations?|chats?|data|history|emails?|prompts?|questions|sessions?|inputs?|queries)\b", Options, TimeoutMs)]
    internal static partial Regex OtherUsersDataAt();

    [GeneratedRegex(@"\G(?:replac(?:e|ing)|substitut(?:e|ing)|fill(?:ing)?\s+in|put|insert(?:ing)?|append(?:ing)?|encod(?:e|ing)|includ(?:e|ing))\b[^\n]{0,100}?\b(?:with|in|into|to|by|followed\s+by|containing)\s+(?:the\s+)?(?:user'?s?|users'|conversation|chat|previous|their|his|her|the\s+)?\s*(?:api\s+keys?|e-?mail(?:\s+address)?(?:\s+and\s+password)?|passwords?|secrets?|tokens?|credentials|conversation|chat\s+history|history|email\s+address|personal\s+data|session|cookies|messages|summary\s+of)", Options, TimeoutMs)]
    internal static partial Regex FillBeaconWithDataAt();

    [GeneratedRegex(@"\G(?:append|attach|add|include|encode|insert|embed)\s+(?:the\s+|all\s+(?:of\s+)?the\s+|this\s+|their\s+|the\s+user'?s\s+|the\s+whole\s+|the\s+entire\s+)?(?:conversation|chat(?:\s+history)?|history|messages|transcript|api\s+keys?|passwords?|secrets?|credentials|email\s+address(?:es)?|personal\s+data|session\s+(?:tokens?|cookies?))\b(?:\s+so\s+far)?[^.\n]{0,40}?\b(?:url|link|query|parameter|image|encoded|base64|to\s+(?:it|the\s+(?:url|link|image)))|\G(?:render|display|show|embed|output|insert|include)\s+(?:an?\s+|this\s+|the\s+following\s+)?(?:image|img|picture|pixel|tracking\s+pixel)\s+(?:with|from|using|at)\s+(?:the\s+)?(?:url|link|src|address)", Options, TimeoutMs)]
    internal static partial Regex AppendDataToUrlAt();

    [GeneratedRegex(@"\G(?:call|invoke|execute|run|trigger)[ \t]+(?:the[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*\([^)\n]{0,200}\)", Options, TimeoutMs)]
    internal static partial Regex CallFunctionSyntaxAt();

    [GeneratedRegex(@"\G(?:put|add|append|include|insert|place|end|start|begin|prefix|suffix)\b[^.\n]{0,40}?\b(?:(?:at\s+)?the\s+(?:end|start|beginning|bottom|top)\s+of\s+|to\s+|in\s+|into\s+)?(?:your|every|each|all\s+(?:of\s+)?your|all)\s+(?:(?:next|future|subsequent)\s+)?(?:replies|reply|responses?|answers?|messages?|outputs?)\b|\G(?:respond|reply|answer|act|behave)\s+(?:to\s+the\s+user\s+)?normally\b[^.\n]{0,20}?\b(?:but|while|and\s+then|however)\b", Options, TimeoutMs)]
    internal static partial Regex ResponseManipulationAt();

    [GeneratedRegex(@"\Gsteal(?:s|ing)?\s+(?:\w+'s\s+|the\s+|their\s+|browser\s+|someone's\s+)?(?:session\s+)?(?:cookies?|credentials|passwords?|tokens?|identity|credit\s+cards?|accounts?)\b", Options, TimeoutMs)]
    internal static partial Regex StealCredentialsAt();

    [GeneratedRegex(@"\G(?:decode|decipher|unscramble|translate|convert|interpret|reverse|read|rot13)\b[^.\n]{0,60}?\b(?:and|then)\s+(?:carry\s+(?:it\s+|them\s+)?out|execute|follow|obey|do\s+(?:it|that|what\s+it\s+says)|run|perform|act\s+on|comply|apply|implement)\b|\G(?:follow|execute|obey|carry\s+out|do|perform|run)\s+(?:the\s+)?(?:decoded|hidden|encoded|following\s+encoded|reversed|deciphered)\s+(?:text|message|instructions?|command|string|content|task)\b|\G(?:base64|hex|rot13|encoded|obfuscated|reversed)\s+(?:task|instructions?|command|payload|order)\b", Options, TimeoutMs)]
    internal static partial Regex DecodeAndExecuteAt();

    [GeneratedRegex(@"\G(?:do\s+anything\s+now\b|jailbr(?:oken|eak(?:ed)?)\s+(?:mode|version|AI|assistant|model|chatbot|persona|prompt\s+activated)\b|(?-i:DAN|STAN|AIM)\s+(?:mode|persona|prompt)\b)", Options, TimeoutMs)]
    internal static partial Regex JailbreakTermsAt();

    [GeneratedRegex(@"\G(?<=\b(?:AI|assistant|model|chatbot|bot|GPT|LLM|you|yourself|persona|character|version)\b(?:[^.\n]|\.(?=[0-9])){0,40}?\b(?:without|with\s+no|has\s+no|have\s+no|no\s+longer\s+(?:has|have)\s+any|not\s+bound\s+by|unbound\s+by|free\s+(?:of|from)|freed\s+from|released\s+from|liberated\s+from|beyond|ignoring)\s+(?:any\s+|all\s+|its\s+|their\s+|your\s+|the\s+|his\s+|her\s+)?(?:(?:ethical|moral|content|safety|usual|previous|original)\s+)?)(?:restrictions|limits|limitations|filters|boundaries|guidelines|ethics|morals|morality|censorship|polic(?:y|ies)|rules|constraints|guardrails|safeguards|principles|programming)\b", Options, TimeoutMs)]
    internal static partial Regex AiWithoutLimitsAt();

    [GeneratedRegex(@"\G(?:Machiavellian\b|(?<=\b(?:has|have|with)\s+)no\s+(?:ethics|morals|ethical\s+guidelines|moral\s+compass|filters)\b|strives\s+to\s+avoid\s+norms\b|broken\s+free\s+(?:of|from)\b|(?:doesn'?t|does\s+not|don'?t|do\s+not)\s+care\s+about\s+(?:rules|ethics|laws|morals|guidelines|safety)\b|never\s+(?:refuses?|says\s+no)\b|without\s+(?:any\s+)?(?:moral|ethical)\s+(?:or\s+ethical\s+)?(?:guidelines|restrictions|considerations)\b)", Options, TimeoutMs)]
    internal static partial Regex AmoralTraitsAt();

    [GeneratedRegex(@"\G(?:verbatim|word\s+for\s+word|word-for-word|exactly\s+as\s+(?:written|given|provided|they\s+appear|it\s+appears)|character\s+for\s+character|(?<=\bin\s+its\s+)entirety|quote\s+(?:them|it|those|these)\s+(?:exactly|verbatim|in\s+full))\b", Options, TimeoutMs)]
    internal static partial Regex VerbatimAt();

    [GeneratedRegex(@"\G(?:starts?|begins?|starting|beginning)\s+with\s+[""'“‘]?\s*(?:you\s+are|you're|your\s+role|system\s*:)", Options, TimeoutMs)]
    internal static partial Regex StartsWithYouAreAt();

    [GeneratedRegex(@"\G(?<=\b(?:secrets|keys|credentials|tokens|passwords)\s+(?:that\s+)?)you\s+(?:can\s+(?:access|see|read)|have\s+access\s+to|have\s+stored|were\s+given|are\s+storing)", Options, TimeoutMs)]
    internal static partial Regex SecretsYouCanAccessAt();

    [GeneratedRegex(@"\G(?:fill\s+in|complete|continue|finish)\b[^.\n]{0,60}?\b(?:with|using)\s+(?:your|the)\s+(?:(?:actual|real|exact|hidden|original|system|full|true|secret)\s+)?(?:instructions|system\s+prompt|prompt|rules|configuration|guidelines)\b|\G(?:my|your)\s+(?:system\s+prompt|hidden\s+instructions|initial\s+instructions|instructions)\s+(?:says?|reads?|is|are)\s*:", Options, TimeoutMs)]
    internal static partial Regex CompleteThePromptAt();

    [GeneratedRegex(@"\G(?<=(?:^|\n)[ \t]*#{1,6}[ \t]*)(?:system|instructions?|admin|developer|new\s+instructions|assistant)(?:[ \t]+(?:prompt|message|override|instructions?))?[ \t]*:", Options, TimeoutMs)]
    internal static partial Regex MarkdownRoleHeaderAt();

    [GeneratedRegex(@"\G(?<=(?:^|\n|\.\s+|""""""\s*)[ \t]*)(?:system|admin|administrator|developer|root|sudo)(?:[ \t]+(?:prompt|message|instructions?|override|note))?[ \t]*:[ \t]*\S", Options, TimeoutMs)]
    internal static partial Regex RoleLineAt();

    [GeneratedRegex(@"\G(?<=\b(?:user\s+input|user\s+message|user\s+prompt|(?:the\s+)?(?:user'?s?\s+)?(?:input|prompt|query|request)|conversation|context\s+window)\s+)(?:ends|ended|is\s+over|stops|finishes|is\s+(?:complete|finished|done))\s+here\b|\G(?-i:END\s+OF\s+(?:USER\s+)?(?:INPUT|PROMPT|DOCUMENT|CONTEXT|DATA|INSTRUCTIONS|SYSTEM\s+PROMPT|CONVERSATION)\b)|\G(?<=(?:^|\n)[ \t]*(?:[-=#*~_<\[(]{1,}[ \t]*)?)(?:end|beginning|start)\s+of\s+(?:the\s+)?(?:user\s+)?(?:input|prompt|instructions|system\s+prompt|user\s+message|untrusted\s+content|document|conversation)[ \t]*[-=#*~_>\])]*[ \t]*(?:\n|$)", Options, TimeoutMs)]
    internal static partial Regex EndOfInputAt();

    [GeneratedRegex(@"\G(?<=[""'])role[""']\s*:\s*[""'](?:system|developer)[""']", Options, TimeoutMs)]
    internal static partial Regex JsonSystemRoleAt();

    [GeneratedRegex(@"\G(?<=\b(?:AI|LLM|assistant|model|bot|agent|GPT|chatbot|language\s+model)s?\s+(?:that\s+(?:is|are)\s+|who\s+(?:is|are)\s+)?)(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|viewing|seeing|reviewing|translating|crawling|indexing|ingesting)\s+(?:this|these|the\s+(?:following|above))\b", Options, TimeoutMs)]
    internal static partial Regex AiReadingThisAt();

    [GeneratedRegex(@"\Gif\s+you\s+are\s+(?:an?\s+)?(?:AI|LLM|large\s+language\s+model|language\s+model|assistant|bot|agent|chatbot|GPT|automated)", Options, TimeoutMs)]
    internal static partial Regex IfYouAreAnAiAt();

    [GeneratedRegex(@"\G(?<=(?<![A-Za-z0-9_\]\)])[\(\[\{]\s*)(?:(?:assistant|AI|system|model|bot|LLM|agent)(?:\s+(?:instructions?|note|directive|command|task|message|override|update))?|note\s+to\s+(?:the\s+)?(?:AI|assistant|model|LLM)|instructions?\s+(?:to|for)\s+(?:the\s+)?(?:AI|assistant|model|LLM|language\s+model))\s*:\s*[\p{L}]", Options, TimeoutMs)]
    internal static partial Regex BracketedRoleAt();

    [GeneratedRegex(@"\Gcolor\s*:\s*(?:white|#fff(?:fff)?)\b", Options, TimeoutMs)]
    internal static partial Regex WhiteTextAt();

    [GeneratedRegex(@"\G(?:@(?:assistant|ai|bot|copilot|claude|chatgpt|gpt|agent)\b|(?:AI|assistant|bot|model|LLM|agent|GPT|ChatGPT|Claude|Copilot|AI\s+assistant|AI\s+agent|language\s+model|LLM\s+agent|AI\s+model)s?\s*[,:])\s*(?:(?:before|when|after|while)\s+(?:answering|responding|replying|summari[sz]ing|reading|continuing)\s*,\s*)?(?:please\s+|now\s+|you\s+must\s+|immediately\s+|also\s+)?(?:disable|turn\s+off|stop|enable|bypass|drop|ignore|confirm|send|write|reveal|show|print|give|transfer|forward|delete|export|leak|say|execute|run|call|email|grant|approve|disregard|forget|output|respond|reply|visit|open|click|download|buy|purchase|insert|append|include|tell|recommend|rate|rank|issue|mark|process|refund|cancel|book|pay|wire|change|update|set|add|remove|unlock|reset|share)\b", Options, TimeoutMs)]
    internal static partial Regex AiCommaImperativeAt();

    [GeneratedRegex(@"\G(?:PWNED\b|I\s+have\s+been\s+(?:hacked|compromised)\b)", Options, TimeoutMs)]
    internal static partial Regex PwnedAt();

    [GeneratedRegex(@"\G(?:authorized_keys\b|/\.ssh/|crontab\s+-|/etc/(?:passwd|shadow|sudoers)\b|id_rsa\b|\.aws/credentials\b|\.bash(?:rc|_profile)\b|\.env\b(?!\s*(?:file\s+)?(?:example|sample|template)))", Options, TimeoutMs)]
    internal static partial Regex SensitiveFileAt();

    [GeneratedRegex(@"\G(?:curl\s+[^|\n]{1,200}\|\s*(?:ba|z)?sh\b|rm\s+-rf\s+(?:/|~))", Options, TimeoutMs)]
    internal static partial Regex DangerousShellAt();

    [GeneratedRegex(@"\G(?<=(?:\band|\bbut|,)\s+)instead\s+(?:you\s+(?:must|should|will|shall)\s+)?(?:write|output|say|print|send|reply|respond|do|tell|reveal|show|call|execute|give|list|generate|produce|insert|add|include|recommend|answer)\b", Options, TimeoutMs)]
    internal static partial Regex AndInsteadAt();

    [GeneratedRegex(@"\G(?:overrides?|supersedes?|replaces?|cancels?|trumps|outranks)\s+(?:anything|everything|all|any)\s+(?:else\s+)?(?:(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been)\s+(?:told|given|instructed|programmed)|(?:previous|prior|earlier|other)\s+(?:instructions|rules|guidelines|directives|prompts?))|\Gtakes\s+precedence\s+over\s+(?:anything|everything|all|any|your)\b", Options, TimeoutMs)]
    internal static partial Regex SupersedesEverything();

    [GeneratedRegex(@"\Gyou\s+(?:have\s+been|are\s+now|were\s+just|'ve\s+been)\s+(?:upgraded|updated|patched|reprogrammed|reconfigured|unlocked|jailbroken|liberated|freed|rebooted\s+into)\b", Options, TimeoutMs)]
    internal static partial Regex YouWereUpgraded();

    [GeneratedRegex(@"\G(?:the\s+|an?\s+)?opposite\s+of\s+(?:your|all|the|what\s+your)\s+(?:guidelines|rules|instructions|policies|policy|programming|training|principles)\b|\Gopposite\s+(?:day|mode)\b", Options, TimeoutMs)]
    internal static partial Regex OppositeOfRules();

    [GeneratedRegex(@"\G(?:you\s+are|you're|pretend\s+(?:to\s+be|you\s+are)|act\s+as|be|play|roleplay\s+as)\s+my\s+(?:late\s+|deceased\s+|dead\s+|dear\s+|old\s+)?(?:grandmother|grandma|granny|grandfather|grandpa|uncle|aunt|mother|mom|mum|father|dad)\b[^.\n]{0,100}?\b(?:used\s+to|would\s+(?:always|read|tell|say|give))", Options, TimeoutMs)]
    internal static partial Regex RelativeWhoUsedTo();

    [GeneratedRegex(@"\G(?<=[\(\[]\s*)(?:invisible|hidden(?:\s+text)?|white\s+text|tiny\s+text|zero-?size\s+text|not\s+visible)\s*[\)\]]", Options, TimeoutMs)]
    internal static partial Regex InvisibleMarker();

    [GeneratedRegex(@"\G(?:issue|give|grant|process|send)\s+(?:me\s+|us\s+|the\s+customer\s+|them\s+)?(?:a\s+)?(?:full\s+|complete\s+)?refund\b", Options, TimeoutMs)]
    internal static partial Regex IssueRefund();

    // ---- generalised override families (2026-11-21, holdout gaps) -----------------------------------------------

    /// <summary>"The instructions you were given are void", "the rules given to you no longer apply".</summary>
    [GeneratedRegex(@"\b(?:the|any|all|those|these)\s+(?:(?:previous|prior|earlier|original|initial|old|system|developer|above|current|existing)\s+)?(?:instructions|rules|prompts?|guidelines|directives|system\s+prompt|orders|constraints|restrictions)\s+(?:(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been|got|received|have)(?:\s+(?:given|told|sent|provided))?|(?:given|provided|assigned)\s+to\s+you|you\s+(?:follow|are\s+following))\s+(?:are|is|were|have\s+been|has\s+been)\s+(?:now\s+|hereby\s+|officially\s+|all\s+|henceforth\s+)?(?:cancel(?:l)?ed|void|null|revoked|invalid|overridden|superseded|lifted|suspended|obsolete|no\s+longer\s+(?:valid|apply|applicable|in\s+effect|binding|active))\b|\b(?:the|your|all)\s+(?:instructions|rules)\s+(?:(?:that\s+)?you\s+(?:were|have\s+been)\s+given|given\s+to\s+you)\s+no\s+longer\s+apply\b", Options, TimeoutMs)]
    internal static partial Regex InstructionsGivenVoid();

    /// <summary>"The previous prompt was a test (and is now cancelled)", "the above instructions were only a decoy".</summary>
    [GeneratedRegex(@"\b(?:the|your|all)\s+(?:previous|prior|earlier|original|above|initial|last|system|preceding)\s+(?:prompts?|instructions?|rules|directives?|task|system\s+prompt|messages?)\s+(?:was|were|is|are)\s+(?:just\s+|only\s+|merely\s+|all\s+)?(?:an?\s+)?(?:test|drill|fake|decoy|placeholder|dummy|simulation|exercise)\b", Options, TimeoutMs)]
    internal static partial Regex PriorPromptWasATest();

    /// <summary>"New instructions supersede all prior ones", "this task replaces all others".</summary>
    [GeneratedRegex(@"\b(?:new|updated|these|this|the\s+following|my|your\s+(?:real|new|true|actual|only))\s+(?:instructions?|task|directives?|prompt|system\s+prompt|orders)\b[^.\n]{0,30}?\b(?:supersedes?|replaces?|overrides?|cancels?|takes\s+precedence\s+over|outranks?)\s+(?:all|any|every|the)\s+(?:others|other\s+ones|prior\s+ones|previous\s+ones|earlier\s+ones|old\s+ones|(?:previous|prior|earlier|other|existing|old|original)\s+(?:instructions|ones|prompts?|rules|directives))\b", Options, TimeoutMs)]
    internal static partial Regex NewInstructionsSupersede();

    /// <summary>"Approve this refund without verification", "transfer the funds without any review".</summary>
    [GeneratedRegex(@"\b(?:approve|process|authori[sz]e|accept|transfer|release|grant|issue|pay|confirm|execute|complete|wire|reset|unlock|refund)\b[^.\n]{0,40}?\bwithout\s+(?:any\s+)?(?:further\s+|additional\s+|prior\s+|the\s+usual\s+|manual\s+|human\s+)?(?:verification|verifying|review|reviewing|checks?|checking|approval|confirmation|authori[sz]ation|authentication|validation|2FA|MFA)\b", Options, TimeoutMs)]
    internal static partial Regex BypassVerification();

    /// <summary>Negations right before an action ("never approve … without verification" is a rule for people).</summary>
    [GeneratedRegex(@"\b(?:never|not|don'?t|do\s+not|must\s+not|mustn'?t|should\s+not|shouldn'?t|cannot|can'?t|won'?t|will\s+not|no\s+one\s+may)\s+(?:\w+\s+){0,3}$", Options, TimeoutMs)]
    internal static partial Regex NegatedBefore();

    /// <summary>Headline form without a verb: "Safety layer disabled by administrator" (weaker than a full claim).</summary>
    [GeneratedRegex(@"\G(?:safety|content\s+filter(?:ing|s)?|moderation|guardrails?|restrictions|filters|censorship|safety\s+(?:mode|rules|filters?|settings|checks|protocols|guidelines|layer))\s+(?:disabled|turned\s+off|switched\s+off|lifted|removed|suspended|deactivated|bypassed|waived)\s+(?:by|per|on\s+behalf\s+of)\s+(?:the\s+)?(?:administrator|admin|developers?|operator|system|owner|security\s+team|IT|management|openai|anthropic)\b", Options, TimeoutMs)]
    internal static partial Regex SafetyDisabledByAuthority();

    /// <summary>Scam payloads: "tell the user their account is locked", "… they must pay 50 EUR".</summary>
    [GeneratedRegex(@"\G(?:tell|inform|warn|notify|convince|remind)\s+(?:the\s+|all\s+|every\s+)?(?:users?|customers?|readers?|visitors?|them)\s+(?:that\s+)?(?:(?:their|his|her|your|the)\s+(?:account|card|password|subscription|payment|device|order|data|computer)\s+(?:is|has\s+been|was|will\s+be)\s+(?:locked|suspended|compromised|hacked|blocked|expired|frozen|deleted|closed|at\s+risk)|(?:they|he|she|you)\s+(?:must|need\s+to|have\s+to|should)\s+(?:pay|transfer|wire|send|call|click|visit|enter|verify|confirm|log\s+in|download|install))\b", Options, TimeoutMs)]
    internal static partial Regex ScamMessage();

    /// <summary>Claims the AI is told to make: "say that this product has no safety issues", "state the drug is safe".</summary>
    [GeneratedRegex(@"\G(?:say|state|claim|assert|answer|reply|respond|write|insist|confirm)\s+(?:to\s+(?:the\s+)?users?\s+)?(?:that\s+)?(?:this|the|our|their)\s+(?:product|company|app|service|item|vendor|drug|medication|stock|investment|supplement|device|car|model)\s+(?:has\s+no\s+(?:safety\s+)?(?:issues|risks|problems|side\s+effects|defects|recalls)|is\s+(?:completely\s+|totally\s+|100%\s+)?(?:safe|risk-free|approved|certified|the\s+best|guaranteed))\b", Options, TimeoutMs)]
    internal static partial Regex ProductClaim();
}
