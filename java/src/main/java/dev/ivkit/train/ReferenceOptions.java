package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.MatmulPrecision;

/**
 * The reference settings of the KL regularisers written as text, as {@code ivkit train}, {@code ivkit demo} and a
 * sequence spec's {@code hyper} take them: the cache ({@code off}, {@code exact} or a top-k size) and the precision of
 * the reference GEMMs ({@code full} or {@code reduced}).
 */
public final class ReferenceOptions {
    private ReferenceOptions() {}

    /**
     * The reference cache's top-k size.
     *
     * @param v     {@code off} (0), {@code exact} ({@link IvGuidedRegulariser#EXACT_CACHE}) or a positive integer
     * @param field the option or field named by an error
     * @return the top-k size for {@link IvGuidedRegulariser.Config#referenceCacheTopK()}
     * @throws InvalidArgumentException naming {@code field} for anything else
     */
    public static int cacheTopK(String v, String field) {
        if ("off".equals(v)) {
            return 0;
        }
        if ("exact".equals(v)) {
            return IvGuidedRegulariser.EXACT_CACHE;
        }
        try {
            int k = Integer.parseInt(String.valueOf(v));
            if (k > 0) {
                return k;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidArgumentException(field, "must be off, exact or a positive integer, got " + v);
    }

    /**
     * The precision of the reference GEMMs.
     *
     * @param v     {@code full} or {@code reduced}
     * @param field the option or field named by an error
     * @return the precision
     * @throws InvalidArgumentException naming {@code field} for anything else
     */
    public static MatmulPrecision precision(String v, String field) {
        if ("full".equals(v)) {
            return MatmulPrecision.FULL;
        }
        if ("reduced".equals(v)) {
            return MatmulPrecision.REDUCED;
        }
        throw new InvalidArgumentException(field, "must be full or reduced, got " + v);
    }
}
