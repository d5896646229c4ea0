/** A peer sent something that is not a valid PeerMessage; the transport closes that link only. */
export class PeerMessageError extends Error {
  override name = 'PeerMessageError';
}
