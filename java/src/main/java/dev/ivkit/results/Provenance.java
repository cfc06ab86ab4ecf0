package dev.ivkit.results;

import java.util.List;

/**
 * Where an {@code eval.json} or {@code probe.json} came from: written by {@code ivkit evaluate} / {@code ivkit probe}
 * and the {@code IvkitModel} facade, left out as a whole by writers that have no model or task file (the demo's
 * organism). In a file either every member is present or none is.
 *
 * @param ivkitVersion     the writer's version ({@code "ivkit 0.1.0"}, {@code "ivkit dev"})
 * @param model            the model file or folder, as given
 * @param modelFingerprint the model's {@code ModelFingerprint}
 * @param taskFile         the task file or folder, as given
 * @param promptFormat     the prompt format's CLI name (qa, none, io, question)
 * @param seed             the seed of the split and the prompt sampling
 */
public record Provenance(String ivkitVersion, String model, String modelFingerprint, String taskFile,
        String promptFormat, long seed) {
    /** The JSON members, in the order written. */
    static final List<String> MEMBERS = List.of("ivkit_version", "model", "model_fingerprint", "task_file",
            "prompt_format", "seed");

    /** The provenance members of {@code m}: null when it has none, every member required when it has one. */
    static Provenance read(JsonMembers m) {
        String present = null;
        for (String k : MEMBERS) {
            if (m.has(k)) {
                present = k;
                break;
            }
        }
        if (present == null) {
            return null;
        }
        for (String k : MEMBERS) {
            if (!m.has(k)) {
                throw m.error(k, "missing (provenance members come together; the file has \"" + present + "\")");
            }
        }
        return new Provenance(m.string("ivkit_version", true), m.string("model", true), m.string("model_fingerprint", true),
                m.string("task_file", true), m.string("prompt_format", true), m.longValue("seed", true));
    }

    /** @return {@code "ivkit VERSION"} of this library's jar ({@code "ivkit dev"} when run from classes) */
    public static String libraryVersion() {
        String v = Provenance.class.getPackage().getImplementationVersion();
        return "ivkit " + (v == null ? "dev" : v);
    }
}
