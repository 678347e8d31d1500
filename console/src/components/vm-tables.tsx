import type { HardwareDiff } from '../diff';
import type { HardwareView } from '../types';
import { TableHead } from './table-head';

/** Each VM's CPU PASID translation table (guest PASID -> host PASID), as KVM programs it. */
export function VmTables({ vms, diff }: { vms: HardwareView['vms']; diff?: HardwareDiff }) {
  const names = [...new Set([...Object.keys(vms), ...(diff?.addedVms.map(([vm]) => vm) ?? [])])].sort();
  if (names.length === 0) return <p>No VM has a CPU PASID translation.</p>;
  return (
    <div class="vms">
      {names.map((vm) => {
        const rows = Object.entries(vms[vm] ?? {}).map(([g, h]) => [Number(g), h] as [number, number]).sort((a, b) => a[0] - b[0]);
        const added = diff?.addedVms.filter(([name]) => name === vm) ?? [];
        return (
          <table class="vm" key={vm} data-vm={vm}>
            <caption>
              VM <code>{vm}</code>
            </caption>
            <TableHead columns={['Guest PASID', 'Host PASID', diff && 'Compared with now']} />
            <tbody>
              {rows.map(([guest, host]) => {
                const d = diff?.vms.get(`${vm}/${guest}`);
                return (
                  <tr key={guest} data-guest-pasid={guest} data-diff={d} class={d ? `diff-${d}` : undefined}>
                    <td class="num">{guest}</td>
                    <td class="num">{host}</td>
                    {diff && <td>{d === 'removed' ? 'gone by now' : d === 'changed' ? 'changed since' : 'unchanged'}</td>}
                  </tr>
                );
              })}
              {added.map(([, guest, host]) => (
                <tr key={`added-${guest}`} data-diff="added" class="diff-added">
                  <td class="num">{guest}</td>
                  <td class="num">{host}</td>
                  <td>added since</td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
    </div>
  );
}
