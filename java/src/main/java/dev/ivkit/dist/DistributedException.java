package dev.ivkit.dist;

import dev.ivkit.IvkitException;

/**
 * A distributed run could not rendezvous or lost a peer: the store at {@code host:port} was unreachable, not every
 * rank joined within the timeout, or a collective failed (a peer died or did not answer within the timeout).
 */
public class DistributedException extends IvkitException {
    private final String endpoint;

    public DistributedException(String endpoint, String message, Throwable cause) {
        super(message, cause);
        this.endpoint = endpoint;
    }

    /** {@code host:port} of the rendezvous store. */
    public String endpoint() {
        return endpoint;
    }
}
