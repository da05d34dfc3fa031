using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace GmmFlow.Cli;

/// <summary>
/// The one typed path every numeric option parses through (docs/cli-contract.md#numbers): the text is parsed and
/// range-checked inside the option's parser, so a malformed or out-of-range value is a parse error
/// ("option --steps: 'abc' is not an integer", exit 2). Validators that read the value are never used for this:
/// System.CommandLine runs them even when conversion failed, and reading the value then throws.
/// </summary>
internal static class CliNumbers
{
    /// <summary>An integer option ≥ <paramref name="minimum"/> (written in digits, optional sign).</summary>
    public static Option<int> Integer(string name, string description, int minimum, int? defaultValue = null, params string[] aliases)
    {
        var option = new Option<int>(name, aliases) { Description = description };
        if (defaultValue is int value)
        {
            option.DefaultValueFactory = _ => value;
        }
        option.CustomParser = r => ParseInteger(r, name, minimum);
        return option;
    }

    /// <summary>A finite real option with a lower bound (inclusive or, with <paramref name="strict"/>, exclusive).</summary>
    public static Option<double> Real(string name, string description, double defaultValue, double minimum, bool strict)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = r => ParseReal(r, name, minimum, strict);
        return option;
    }

    /// <summary>Like <see cref="Real"/> but without a default: null when the option is absent.</summary>
    public static Option<double?> OptionalReal(string name, string description, double minimum, bool strict)
    {
        var option = new Option<double?>(name) { Description = description };
        option.CustomParser = r => ParseReal(r, name, minimum, strict);
        return option;
    }

    /// <summary>--seed: an unsigned 64-bit integer, default 0.</summary>
    public static Option<ulong> Seed(string description)
    {
        var option = new Option<ulong>("--seed") { Description = description, DefaultValueFactory = _ => 0 };
        option.CustomParser = r => ParseUnsigned(r, "--seed");
        return option;
    }

    /// <summary>
    /// Makes every numeric option of <paramref name="command"/> and its subcommands parse through this class (options
    /// built elsewhere get the typed parser without a range) and guards every validator so that it does not run on a
    /// value that failed to convert (the conversion error is reported instead).
    /// </summary>
    public static void Harden(Command command)
    {
        foreach (Option option in command.Options)
        {
            switch (option)
            {
                case Option<int> o when o.CustomParser is null:
                    o.CustomParser = r => ParseInteger(r, o.Name, int.MinValue);
                    break;
                case Option<double> o when o.CustomParser is null:
                    o.CustomParser = r => ParseReal(r, o.Name, double.NegativeInfinity, strict: false);
                    break;
                case Option<double?> o when o.CustomParser is null:
                    o.CustomParser = r => ParseReal(r, o.Name, double.NegativeInfinity, strict: false);
                    break;
                case Option<ulong> o when o.CustomParser is null:
                    o.CustomParser = r => ParseUnsigned(r, o.Name);
                    break;
                case Option<long> o when o.CustomParser is null:
                    o.CustomParser = r => ParseLong(r, o.Name);
                    break;
            }
            for (int i = 0; i < option.Validators.Count; i++)
            {
                var inner = option.Validators[i];
                option.Validators[i] = r =>
                {
                    try
                    {
                        inner(r);
                    }
                    catch (InvalidOperationException) when (r.Tokens.Count > 0)
                    {
                        // The value did not convert; its parse error is reported instead of the validator's.
                    }
                };
            }
        }
        foreach (Command sub in command.Subcommands)
        {
            Harden(sub);
        }
    }

    private static string? Token(ArgumentResult r) => r.Tokens.Count == 0 ? null : r.Tokens[^1].Value;

    internal static int ParseInteger(ArgumentResult r, string name, int minimum)
    {
        string? text = Token(r);
        if (text is null)
        {
            return default;
        }
        string? problem = IntegerProblem(text, minimum, int.MaxValue, out long value);
        if (problem is not null)
        {
            r.AddError($"option {name}: {problem}.");
            return default;
        }
        return (int)value;
    }

    private static long ParseLong(ArgumentResult r, string name)
    {
        string? text = Token(r);
        if (text is null)
        {
            return default;
        }
        string? problem = IntegerProblem(text, long.MinValue, long.MaxValue, out long value);
        if (problem is not null)
        {
            r.AddError($"option {name}: {problem}.");
        }
        return value;
    }

    /// <summary>Why <paramref name="text"/> is not an integer in [min, max] (null when it is one).</summary>
    internal static string? IntegerProblem(string text, long min, long max, out long value)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            if (IsDigits(text))
            {
                return $"'{text}' is out of range (at {(text.StartsWith('-') ? "least " + min.ToString(CultureInfo.InvariantCulture) : "most " + max.ToString(CultureInfo.InvariantCulture))})";
            }
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double real) && double.IsFinite(real) && Math.Floor(real) == real)
            {
                return $"'{text}' is not an integer written in digits (write {real.ToString("F0", CultureInfo.InvariantCulture)})";
            }
            return $"'{text}' is not an integer";
        }
        if (value < min)
        {
            return $"{text} is out of range; it must be at least {min.ToString(CultureInfo.InvariantCulture)}";
        }
        if (value > max)
        {
            return $"{text} is out of range (at most {max.ToString(CultureInfo.InvariantCulture)})";
        }
        return null;
    }

    private static bool IsDigits(string text)
    {
        ReadOnlySpan<char> s = text.AsSpan();
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            s = s[1..];
        }
        return !s.IsEmpty && !s.ContainsAnyExceptInRange('0', '9');
    }

    private static ulong ParseUnsigned(ArgumentResult r, string name)
    {
        string? text = Token(r);
        if (text is null)
        {
            return default;
        }
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
        {
            return value;
        }
        r.AddError(IsDigits(text) && !text.StartsWith('-')
            ? $"option {name}: '{text}' is out of range (at most {ulong.MaxValue})."
            : $"option {name}: '{text}' is not an integer from 0 to {ulong.MaxValue}.");
        return default;
    }

    internal static double ParseReal(ArgumentResult r, string name, double minimum, bool strict)
    {
        string? text = Token(r);
        if (text is null)
        {
            return default;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            string word = text.TrimStart('+', '-').ToLowerInvariant();
            r.AddError(word is "nan" or "inf" or "infinity" ? $"option {name}: '{text}' is not a finite number." : $"option {name}: '{text}' is not a number.");
            return default;
        }
        if (!double.IsFinite(value))
        {
            r.AddError($"option {name}: '{text}' is not a finite number.");
            return default;
        }
        if (strict ? !(value > minimum) : !(value >= minimum))
        {
            string bound = minimum.ToString("R", CultureInfo.InvariantCulture);
            r.AddError($"option {name}: {text} is out of range; it must be {(strict ? ">" : "≥")} {bound}.");
            return default;
        }
        return value;
    }
}
