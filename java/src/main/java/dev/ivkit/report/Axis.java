package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A numeric axis with "nice" ticks (steps of 1, 2 or 5 × 10^k). */
final class Axis {
    final double lo;
    final double hi;
    final double step;
    final List<Double> ticks = new ArrayList<>();

    private Axis(double lo, double hi, double step) {
        this.lo = lo;
        this.hi = hi;
        this.step = step;
        for (long i = Math.round(Math.ceil(lo / step - 1e-9)); i * step <= hi + step * 1e-9; i++) {
            double t = Math.abs(i * step) < step * 1e-9 ? 0.0 : i * step;
            double scale = Math.pow(10, 9 - Math.floor(Math.log10(step)));  // drop binary noise (0.6000000000000001)
            ticks.add(Math.abs(t * scale) < 9e15 ? Math.round(t * scale) / scale : t);
        }
    }

    /** An axis covering [lo, hi]; {@code pad} widens it to the enclosing ticks (and a little for scatter). */
    static Axis of(double lo, double hi, int target, boolean pad) {
        if (!(hi > lo)) {
            double d = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            lo -= d;
            hi += d;
        }
        double step = niceStep((hi - lo) / Math.max(1, target));
        if (pad) {
            lo = Math.floor(lo / step - 1e-9) * step;
            hi = Math.ceil(hi / step + 1e-9) * step;
        } else {
            double lo2 = Math.floor(lo / step + 1e-9) * step, hi2 = Math.ceil(hi / step - 1e-9) * step;
            lo = lo2;
            hi = hi2;
        }
        return new Axis(lo, hi, step);
    }

    /** An axis over whole numbers (layers, steps): ticks never fall between them. */
    static Axis integers(double lo, double hi, int target) {
        if (!(hi > lo)) {
            return new Axis(lo - 1, hi + 1, 1);
        }
        double step = Math.max(1, niceStep((hi - lo) / Math.max(1, target)));
        return new Axis(lo, hi, step);
    }

    static double niceStep(double raw) {
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double r = raw / mag;
        return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    }

    String label(double v) {
        int decimals = (int) Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
