package dev.ivkit.report;

import java.util.Locale;

/**
 * A tiny SVG writer: elements appended to a string, every text and attribute value escaped, numbers in a fixed
 * locale. The result is a standalone, well-formed {@code <svg>} element (no ids, so many can share one HTML page).
 */
final class Svg {
    static final String FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";
    /** Approximate advance of one character, as a fraction of the font size (for layout only). */
    static final double CHAR_W = 0.6;

    private final StringBuilder sb = new StringBuilder();
    private final double width;
    private final double height;

    Svg(double width, double height, String title) {
        this.width = width;
        this.height = height;
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(n(width)).append("\" height=\"")
                .append(n(height)).append("\" viewBox=\"0 0 ").append(n(width)).append(' ').append(n(height))
                .append("\" role=\"img\" font-family=\"").append(FONT).append("\" font-size=\"11\">");
        sb.append("<title>").append(Html.escape(title)).append("</title>");
        sb.append("<rect x=\"0\" y=\"0\" width=\"").append(n(width)).append("\" height=\"").append(n(height))
                .append("\" fill=\"#ffffff\"/>");
    }

    double width() {
        return width;
    }

    double height() {
        return height;
    }

    static String n(double v) {
        if (!Double.isFinite(v)) {
            return "0";
        }
        String s = String.format(Locale.ROOT, "%.2f", v);
        if (s.contains(".")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s.equals("-0") ? "0" : s;
    }

    static double textWidth(String s, double fontSize) {
        return s.length() * fontSize * CHAR_W;
    }

    /** Opens an element: {@code attrs} are name, value pairs (values escaped). */
    Svg open(String name, Object... attrs) {
        sb.append('<').append(name);
        attrs(attrs);
        sb.append('>');
        return this;
    }

    Svg close(String name) {
        sb.append("</").append(name).append('>');
        return this;
    }

    /** An empty element. */
    Svg el(String name, Object... attrs) {
        sb.append('<').append(name);
        attrs(attrs);
        sb.append("/>");
        return this;
    }

    /** An element with a {@code <title>} child (a tooltip in browsers). */
    Svg elTitled(String name, String tooltip, Object... attrs) {
        if (tooltip == null) {
            return el(name, attrs);
        }
        open(name, attrs);
        sb.append("<title>").append(Html.escape(tooltip)).append("</title>");
        return close(name);
    }

    Svg text(double x, double y, String anchor, double size, String text, Object... extra) {
        Object[] a = new Object[6 + extra.length];
        a[0] = "x";
        a[1] = x;
        a[2] = "y";
        a[3] = y;
        a[4] = "text-anchor";
        a[5] = anchor;
        System.arraycopy(extra, 0, a, 6, extra.length);
        sb.append("<text");
        attrs(a);
        if (size != 11) {
            attrs(new Object[] {"font-size", size});
        }
        sb.append('>').append(Html.escape(text)).append("</text>");
        return this;
    }

    Svg line(double x1, double y1, double x2, double y2, String stroke, double w, Object... extra) {
        Object[] a = new Object[12 + extra.length];
        Object[] base = {"x1", x1, "y1", y1, "x2", x2, "y2", y2, "stroke", stroke, "stroke-width", w};
        System.arraycopy(base, 0, a, 0, 12);
        System.arraycopy(extra, 0, a, 12, extra.length);
        return el("line", a);
    }

    private void attrs(Object[] attrs) {
        if (attrs.length % 2 != 0) {
            throw new IllegalArgumentException("attributes come in name, value pairs");
        }
        for (int i = 0; i < attrs.length; i += 2) {
            if (attrs[i + 1] == null) {
                continue;
            }
            Object v = attrs[i + 1];
            String s = v instanceof Double d ? n(d) : v instanceof Float f ? n(f) : String.valueOf(v);
            sb.append(' ').append(attrs[i]).append("=\"").append(Html.escape(s)).append('"');
        }
    }

    String finish() {
        return sb + "</svg>";
    }
}
