/**
 * A SipUser's side of the brute-force guard by source address (`workers/registrar/address-guard.ts`):
 * the blocks on the addresses of the sockets this object holds, kept in memory so that a blocked
 * address is answered without an RPC, and telling an address's guard of each wrong answer from it.
 */
import type { SipRequest, SipResponse } from '../../shared/message/index.ts';
import { errorFields, type Logger } from '../logger.ts';
import { refuseFromBlockedAddress, type AddressBlock } from '../registrar/address-guard.ts';
import type { AddressGuard } from '../registrar/address-guard-object.ts';

export interface AddressBlockPorts {
  readonly log: Logger;
  /** The guard object of `address`. */
  guard(address: string): Pick<DurableObjectStub<AddressGuard>, 'addressFailed'>;
}

export class AddressBlocks {
  readonly #ports: AddressBlockPorts;
  readonly #blocks = new Map<string, AddressBlock>();

  constructor(ports: AddressBlockPorts) {
    this.#ports = ports;
  }

  /** The answer to a request from a blocked address, or undefined when it is not blocked. */
  refuse(request: SipRequest, address: string): SipResponse | undefined {
    return refuseFromBlockedAddress(request, this.#blocks.get(address), Date.now());
  }

  /** Tells the guard of `address` about a wrong answer from it; the block it is now under, if any. */
  async failed(address: string): Promise<AddressBlock | undefined> {
    if (address === '') return undefined;
    let block: AddressBlock | undefined;
    try {
      block = await this.#ports.guard(address).addressFailed(address);
    } catch (error) {
      this.#ports.log.warn('sip-user.address-guard-failed', errorFields(error));
      return undefined;
    }
    if (block === undefined) this.#blocks.delete(address);
    else this.#blocks.set(address, block);
    return block;
  }
}
