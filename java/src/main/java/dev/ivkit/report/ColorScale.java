package dev.ivkit.report;

import java.util.Locale;

/**
 * Maps numbers to colours. Sequential scales use viridis (perceptually uniform, readable in grey and by most colour-blind
 * readers); diverging scales run blue (negative) through near-white (0) to red (positive), symmetric about 0.
 * Values outside the range are clamped; NaN is grey ({@link #MISSING}).
 */
public final class ColorScale {
    /** The colour of a missing value. */
    public static final String MISSING = "#d9d9d9";

    static final int[] VIRIDIS = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725};
    static final int[] DIVERGING = {0x2166ac, 0x67a9cf, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xef8a62, 0xb2182b};

    private final double min;
    private final double max;
    private final int[] stops;

    private ColorScale(double min, double max, int[] stops) {
        this.min = min;
        this.max = max;
        this.stops = stops;
    }

    /** Viridis from {@code min} (dark purple) to {@code max} (yellow). */
    public static ColorScale sequential(double min, double max) {
        return new ColorScale(min, max, VIRIDIS);
    }

    /** Blue at {@code -absMax}, near-white at 0, red at {@code +absMax}. */
    public static ColorScale diverging(double absMax) {
        double a = Math.abs(absMax);
        return new ColorScale(-a, a, DIVERGING);
    }

    /** Diverging when the finite values straddle 0, else sequential over their range. */
    public static ColorScale auto(double[][] values) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            return sequential(0, 1);
        }
        if (lo < 0 && hi > 0) {
            return diverging(Math.max(-lo, hi));
        }
        return sequential(lo, hi);
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    public boolean isDiverging() {
        return stops == DIVERGING;
    }

    /** Position of {@code v} on the scale, 0..1 (0.5 when the range is empty). */
    public double position(double v) {
        if (!(max > min)) {
            return 0.5;
        }
        return Math.max(0, Math.min(1, (v - min) / (max - min)));
    }

    /** {@code #rrggbb} for {@code v}; {@link #MISSING} for NaN. */
    public String color(double v) {
        if (Double.isNaN(v)) {
            return MISSING;
        }
        return hex(rgb(position(v)));
    }

    /** True when black text is more readable than white on {@code color(v)}. */
    public boolean darkText(double v) {
        int c = Double.isNaN(v) ? 0xd9d9d9 : rgb(position(v));
        double lum = 0.2126 * ((c >> 16) & 255) + 0.7152 * ((c >> 8) & 255) + 0.0722 * (c & 255);
        return lum > 140;
    }

    private int rgb(double t) {
        double x = t * (stops.length - 1);
        int i = Math.min(stops.length - 2, (int) Math.floor(x));
        double f = x - i;
        int a = stops[i], b = stops[i + 1];
        int r = (int) Math.round(((a >> 16) & 255) * (1 - f) + ((b >> 16) & 255) * f);
        int g = (int) Math.round(((a >> 8) & 255) * (1 - f) + ((b >> 8) & 255) * f);
        int bl = (int) Math.round((a & 255) * (1 - f) + (b & 255) * f);
        return (r << 16) | (g << 8) | bl;
    }

    static String hex(int rgb) {
        return String.format(Locale.ROOT, "#%06x", rgb & 0xffffff);
    }
}
