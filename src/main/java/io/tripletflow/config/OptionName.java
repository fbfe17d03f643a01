package io.tripletflow.config;

import java.util.Locale;

/**
 * An enum option's value as written in configuration and on the command line:
 * {@code SQUARED_EUCLIDEAN} is {@code squared-euclidean}. Option enums return it from
 * {@code toString()}, which is what Flink's {@code enumType} options match (ignoring case).
 */
public final class OptionName {
    private OptionName() {}

    public static String of(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
