package dev.ivkit.results;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape checks of a results file's known members, each error naming the member's JSON path, and the typed views of
 * its per-stage and initial trees ({@link ResultsFile.DynamicsEntry}, {@link ResultsFile.Knowledge}). Absent and null
 * members are allowed everywhere (readers leave out what is missing); unknown members are never looked at.
 */
final class ResultsShape {
    private final String where;

    ResultsShape(String where) {
        this.where = where;
    }

    /** Checks every known member of the file's object {@code o}. */
    void check(JsonObject o) {
        str(o, "sequence", "");
        strings(o, "tasks", "");
        strings(o, "task_metrics", "");
        JsonObject defs = obj(o, "definitions", "");
        if (defs != null) {
            for (String k : defs.keySet()) {
                str(defs, k, "definitions");
            }
        }
        JsonObject init = obj(o, "initial", "");
        if (init != null) {
            knowledge(init.get("knowledge"), "initial.knowledge");
            initialIvs(init.get("iv"), "initial.iv");
        }
        JsonObject methods = obj(o, "methods", "");
        if (methods == null) {
            return;
        }
        for (String m : methods.keySet()) {
            String mp = "methods." + m;
            JsonObject mo = obj(methods, m, "methods");
            JsonObject seeds = obj(mo, "seeds", mp);
            for (String s : seeds == null ? List.<String>of() : seeds.keySet()) {
                String sp = mp + ".seeds." + s;
                JsonObject so = obj(seeds, s, mp + ".seeds");
                for (String k : List.of("AP", "BWT", "FWT")) {
                    num(so, k, sp);
                }
                matrix(so, "accuracy_matrix", sp);
                vector(so == null ? null : so.get("train_loss_last"), sp + ".train_loss_last");
                matrix(so, "per_task_instruction_accuracy", sp);
                dynamics(so == null ? null : so.get("iv_dynamics"), sp + ".iv_dynamics");
            }
            JsonObject sum = obj(mo, "summary", mp);
            for (String k : sum == null ? List.<String>of() : sum.keySet()) {
                JsonObject ko = obj(sum, k, mp + ".summary");
                for (String n : List.of("mean", "std", "n", "nan")) {
                    num(ko, n, mp + ".summary." + k);
                }
            }
        }
    }

    /** {@code iv_dynamics}: per stage (null: none), the per-task entries; null when absent. */
    List<List<ResultsFile.DynamicsEntry>> dynamics(JsonElement e, String path) {
        JsonArray stages = arr(e, path);
        if (stages == null) {
            return null;
        }
        List<List<ResultsFile.DynamicsEntry>> out = new ArrayList<>();
        for (int k = 0; k < stages.size(); k++) {
            String kp = path + "[" + k + "]";
            JsonArray a = stages.get(k).isJsonNull() ? null : arr(stages.get(k), kp);
            if (a == null) {
                out.add(null);
                continue;
            }
            List<ResultsFile.DynamicsEntry> stage = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                String ep = kp + "[" + i + "]";
                JsonObject x = object(a.get(i), ep);
                JsonObject kn = obj(x, "knowledge", ep);
                Double ti = num(x, "task_index", ep);
                stage.add(new ResultsFile.DynamicsEntry(str(x, "task", ep), ti == null ? null : (int) Math.round(ti), num(x, "accuracy", ep),
                        num(x, "iv_cosine", ep), num(x, "head_jaccard", ep), recovery(obj(x, "recovery", ep), ep + ".recovery"),
                        kn == null ? null : knowledgeOf(kn, ep + ".knowledge"), knowledge(x.get("knowledge_by_task"), ep + ".knowledge_by_task"),
                        num(x, "icl_accuracy", ep)));
            }
            out.add(stage);
        }
        return out;
    }

    /**
     * A recovery entry; null when absent. Where {@code regained} is present (files written since the share floor), a
     * share outside [−1, 2] is an error naming the member; older files' shares are read as written.
     */
    private ResultsFile.Recovery recovery(JsonObject rec, String path) {
        if (rec == null) {
            return null;
        }
        Double regained = num(rec, "regained", path), share = num(rec, "share_regained", path);
        if (regained != null && share != null && !RecoveryScore.inRange(share)) {
            throw error(path + ".share_regained", "a share in [" + RecoveryScore.SHARE_MIN + ", " + RecoveryScore.SHARE_MAX + "]",
                    rec.get("share_regained"));
        }
        return new ResultsFile.Recovery(num(rec, "accuracy_with_pre_iv", path), num(rec, "lost", path), regained, share,
                str(rec, "share_reason", path));
    }

    /** {@code initial.iv}: one entry per task; null when absent. */
    List<ResultsFile.InitialIv> initialIvs(JsonElement e, String path) {
        JsonArray a = arr(e, path);
        if (a == null) {
            return null;
        }
        List<ResultsFile.InitialIv> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            String ip = path + "[" + i + "]";
            JsonObject x = object(a.get(i), ip);
            JsonArray sw = arr(x.get("layer_sweep_top1"), ip + ".layer_sweep_top1");
            List<ResultsFile.LayerTop1> sweep = null;
            if (sw != null) {
                sweep = new ArrayList<>();
                for (int k = 0; k < sw.size(); k++) {
                    String kp = ip + ".layer_sweep_top1[" + k + "]";
                    JsonObject r = object(sw.get(k), kp);
                    sweep.add(new ResultsFile.LayerTop1(num(r, "layer", kp), num(r, "top1", kp)));
                }
            }
            out.add(new ResultsFile.InitialIv(str(x, "task", ip), matrix(x, "cie", ip), sweep, bool(x, "every_token", ip)));
        }
        return out;
    }

    /** {@code initial.knowledge}: one entry per task; null when absent. */
    List<ResultsFile.Knowledge> knowledge(JsonElement e, String path) {
        JsonArray a = arr(e, path);
        if (a == null) {
            return null;
        }
        List<ResultsFile.Knowledge> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            out.add(knowledgeOf(object(a.get(i), path + "[" + i + "]"), path + "[" + i + "]"));
        }
        return out;
    }

    private ResultsFile.Knowledge knowledgeOf(JsonObject o, String path) {
        return new ResultsFile.Knowledge(str(o, "task", path), num(o, "knowledge_p", path), num(o, "instruction_p", path));
    }

    // ------------------------------------------------------------------------------------------- members

    private static boolean present(JsonObject o, String key) {
        return o != null && o.has(key) && !o.get(key).isJsonNull();
    }

    private static String path(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
    }

    private ResultsFormatException error(String path, String what, JsonElement got) {
        String s = got == null ? "nothing" : got.toString();
        return new ResultsFormatException(where, path, "expected " + what + ", got " + (s.length() > 40 ? s.substring(0, 37) + "..." : s));
    }

    private JsonObject object(JsonElement e, String path) {
        if (e == null || !e.isJsonObject()) {
            throw error(path, "an object", e);
        }
        return e.getAsJsonObject();
    }

    private JsonObject obj(JsonObject o, String key, String parent) {
        return present(o, key) ? object(o.get(key), path(parent, key)) : null;
    }

    private JsonArray arr(JsonElement e, String path) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonArray()) {
            throw error(path, "an array", e);
        }
        return e.getAsJsonArray();
    }

    private String str(JsonObject o, String key, String parent) {
        if (!present(o, key)) {
            return null;
        }
        JsonElement e = o.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw error(path(parent, key), "a string", e);
        }
        return e.getAsString();
    }

    private void strings(JsonObject o, String key, String parent) {
        JsonArray a = o == null ? null : arr(o.get(key), path(parent, key));
        for (int i = 0; a != null && i < a.size(); i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw error(path(parent, key) + "[" + i + "]", "a string", e);
            }
        }
    }

    /** A JSON number or null (undefined); absent is null. */
    private Double num(JsonObject o, String key, String parent) {
        return present(o, key) ? number(o.get(key), path(parent, key)) : null;
    }

    Double number(JsonElement e, String path) {
        if (e.isJsonNull()) {
            return null;
        }
        if (e.isJsonPrimitive() && ((JsonPrimitive) e).isNumber()) {
            return e.getAsDouble();
        }
        throw error(path, "a number", e);
    }

    private void vector(JsonElement e, String path) {
        JsonArray a = arr(e, path);
        for (int i = 0; a != null && i < a.size(); i++) {
            number(a.get(i), path + "[" + i + "]");
        }
    }

    /** A matrix of numbers (no nulls); null when absent. */
    private double[][] matrix(JsonObject o, String key, String parent) {
        String p = path(parent, key);
        JsonArray rows = o == null ? null : arr(o.get(key), p);
        if (rows == null) {
            return null;
        }
        double[][] out = new double[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            JsonArray row = arr(rows.get(r), p + "[" + r + "]");
            if (row == null) {
                throw error(p + "[" + r + "]", "an array of numbers", rows.get(r));
            }
            out[r] = new double[row.size()];
            for (int c = 0; c < row.size(); c++) {
                if (row.get(c).isJsonNull()) {
                    throw error(p + "[" + r + "][" + c + "]", "a number", row.get(c));
                }
                out[r][c] = number(row.get(c), p + "[" + r + "][" + c + "]");
            }
        }
        return out;
    }

    /** A JSON boolean; absent or null is null. */
    private Boolean bool(JsonObject o, String key, String parent) {
        if (!present(o, key)) {
            return null;
        }
        JsonElement e = o.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw error(path(parent, key), "true or false", e);
        }
        return e.getAsBoolean();
    }

}
