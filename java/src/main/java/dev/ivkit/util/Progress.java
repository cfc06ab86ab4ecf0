package dev.ivkit.util;

import java.io.PrintStream;

/**
 * A progress line on stderr: redrawn in place on a terminal, otherwise one line per 10 % (so logs stay short).
 * Never writes to stdout.
 */
public final class Progress {
    private final String label;
    private final long total;
    private final PrintStream err;
    private final boolean tty;
    private final long started = System.nanoTime();
    private int lastDecile = -1;

    public Progress(String label, long total) {
        this.label = label;
        this.total = Math.max(1, total);
        this.err = System.err;
        this.tty = System.console() != null;
    }

    /** Reports {@code done} of {@code total} with a free-form suffix (e.g. "loss 1.23"). */
    public void update(long done, String suffix) {
        double secs = (System.nanoTime() - started) / 1e9;
        double eta = done > 0 ? secs / done * (total - done) : Double.NaN;
        String line = String.format("%s %d/%d (%.0f%%) %s eta %s", label, done, total, 100.0 * done / total,
                suffix == null ? "" : suffix, Double.isNaN(eta) ? "?" : formatSecs(eta));
        if (tty) {
            err.print("\r" + line + "   ");
            if (done >= total) {
                err.println();
            }
            err.flush();
        } else {
            int decile = (int) (10 * done / total);
            if (decile != lastDecile) {
                lastDecile = decile;
                err.println(line);
            }
        }
    }

    static String formatSecs(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t % 3600 / 60) : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
