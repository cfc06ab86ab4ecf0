package dev.ivkit.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A JMH JSON result file read into {@link Result}s: shared by {@link ResultsTable} and {@link Compare}. */
final class JmhResults {
    private JmhResults() {}

    /** One metric: median, min and max over the measurement iterations, JMH's unit, and the per-iteration values. */
    record Metric(double p50, double min, double max, String unit, double[] raw) {}

    /** One benchmark at one @Param combination; {@code name} is {@code Class.method}, {@code mode} JMH's (thrpt, avgt, ...). */
    record Result(String name, String mode, Map<String, String> params, Metric primary, Map<String, Metric> secondary) {
        String param(String key) {
            return params.getOrDefault(key, "");
        }
    }

    static List<Result> read(Path json) throws IOException {
        return parse(Files.readString(json, StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static List<Result> parse(String text) {
        List<Result> out = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(text)) {
            Map<String, Object> r = (Map<String, Object>) o;
            String full = (String) r.get("benchmark");
            String[] parts = full.split("\\.");
            String name = parts[parts.length - 2] + "." + parts[parts.length - 1];
            Map<String, String> params = new LinkedHashMap<>();
            Object p = r.get("params");
            if (p != null) {
                ((Map<String, Object>) p).forEach((k, v) -> params.put(k, String.valueOf(v)));
            }
            Map<String, Metric> secondary = new LinkedHashMap<>();
            Object s = r.get("secondaryMetrics");
            if (s != null) {
                ((Map<String, Object>) s).forEach((k, v) -> secondary.put(k, metric((Map<String, Object>) v)));
            }
            out.add(new Result(name, String.valueOf(r.get("mode")), params, metric((Map<String, Object>) r.get("primaryMetric")), secondary));
        }
        return out;
    }

    /** The result of benchmark {@code name} with the same parameters as {@code r}, or null. */
    static Result partner(List<Result> results, String name, Result r) {
        for (Result o : results) {
            if (o.name().equals(name) && o.params().equals(r.params())) {
                return o;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static Metric metric(Map<String, Object> m) {
        Map<String, Object> pct = (Map<String, Object>) m.get("scorePercentiles");
        List<Double> raw = new ArrayList<>();
        Object rd = m.get("rawData");
        if (rd != null) {
            for (Object fork : (List<Object>) rd) {
                for (Object v : (List<Object>) fork) {
                    raw.add(num(v));
                }
            }
        }
        return new Metric(num(pct.get("50.0")), num(pct.get("0.0")), num(pct.get("100.0")), (String) m.get("scoreUnit"),
                raw.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double num(Object o) {
        return o instanceof Double d ? d : Double.parseDouble(String.valueOf(o));
    }
}
