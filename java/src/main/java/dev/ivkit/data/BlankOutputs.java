package dev.ivkit.data;

/**
 * What a loader does with a record whose output is empty or whitespace only. Real files have such records:
 * SuperNI task511 (reddit_tifu) has 7 empty labels in SAPO dev, 6 in SAPO test and 6 empty outputs in SAPT train.
 * Inputs are always required to be non-blank.
 */
public enum BlankOutputs {
    /** Throw a {@link DataFormatException} naming the record (the default). */
    REJECT,
    /** Drop the record (later indices shift; the dataset holds fewer examples than the file). */
    SKIP,
    /**
     * Keep it with the output as written; prompt builders then follow [FVF]'s rule that an empty target becomes
     * {@code "."}.
     */
    KEEP
}
