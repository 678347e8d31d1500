/** A table's column headers. */
export function TableHead({ columns }: { columns: Array<string | false | undefined> }) {
  return (
    <thead>
      <tr>
        {columns.filter((c): c is string => typeof c === 'string').map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
