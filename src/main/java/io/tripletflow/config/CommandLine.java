package io.tripletflow.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The one parser of every command's arguments: {@code --name value}, {@code --name=value} and
 * {@code --flag} (or {@code --flag=false}). What a command does not know is an error (with the
 * command's own message) or, for a command that passes options on (local mode to the job), kept
 * in order for the next parser.
 *
 * <pre>{@code
 * CommandLine line = CommandLine.parse(args, 1, Set.of("mask"), List.of("input", "output")::contains,
 *         CommandLine.listing(List.of("input", "output", "mask")));
 * Path input = Path.of(line.require("input"));
 * }</pre>
 */
public final class CommandLine {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> passedOn = new ArrayList<>();

    private CommandLine() {
    }

    /**
     * Parses {@code args[from ..]}.
     *
     * @param flags names that take no value
     * @param isOption names that take a value
     * @param unknown the error message for another name, or null to keep such arguments (with the
     *        value that follows them) for {@link #passedOn()}
     * @throws IllegalArgumentException for an argument that is not {@code --name}, a missing value,
     *         or an unknown name
     */
    public static CommandLine parse(String[] args, int from, Set<String> flags, Predicate<String> isOption,
                                    Function<String, String> unknown) {
        CommandLine line = new CommandLine();
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                line.values.put(name, value == null ? "true" : value);
                continue;
            }
            boolean known = isOption.test(name);
            if (!known && unknown != null) {
                throw new IllegalArgumentException(unknown.apply(name));
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--" + name + " needs a value");
                }
                value = args[++i];
            }
            if (known) {
                line.values.put(name, value);
            } else {
                line.passedOn.add("--" + name);
                line.passedOn.add(value);
            }
        }
        return line;
    }

    /** An unknown-name message that lists the known names. */
    public static Function<String, String> listing(List<String> known) {
        return name -> "unknown option --" + name + "; known: --" + String.join(" --", known);
    }

    /** The value of {@code name}, or null when not given. */
    public String get(String name) {
        return values.get(name);
    }

    public String require(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    public boolean flag(String name) {
        return Boolean.parseBoolean(values.getOrDefault(name, "false"));
    }

    /** The known names given, with their values, in the order first given (a repeated name: its last value). */
    public Map<String, String> values() {
        return Collections.unmodifiableMap(values);
    }

    /** The unknown {@code --name value} pairs, in order, for a command that passes them on. */
    public List<String> passedOn() {
        return Collections.unmodifiableList(passedOn);
    }
}
