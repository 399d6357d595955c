`default_nettype none

// The shared memory chunk window (ChunkWindow in the model): Slots slots of 2^ChunkShift bytes, each
// mapped by the chunk table onto backing memory with read and write permission. Firmware loads one
// slot per commit (index, perm, addr); a commit whose chunk does not lie wholly in the BackingBytes
// of backing memory, or whose index is out of range, is dropped or unmaps. A host access to a slot
// with the permission it needs becomes one request on the memory master; otherwise a read returns
// all-ones and a write is dropped. A slot committed with system set maps host system memory (a
// driver's buffer) instead: its bus address must be page-aligned and below 2^SysAddrBits, it is kept
// as a page number, and its accesses go out with mem_sys_o high, only while bus mastering is on.
// The table is a RAM (one write port, a registered read, no reset): a valid bit per slot, cleared
// by reset and set by a commit, stands in for the table's reset, and a host access looks its slot
// up a clock before it decides. The memory address (the slot's base plus the offset in the chunk)
// is added over two clocks, the chunk's bits first, so that no path holds a full-width carry.
module ep_chunk_window #(
  parameter int unsigned Slots        = 256,
  parameter int unsigned ChunkShift   = 17,
  parameter int unsigned BackingShift = 25,  // backing memory is 2^BackingShift bytes
  parameter int unsigned SysAddrBits  = 48   // system-memory slots: bus addresses below 2^SysAddrBits
) (
  input  wire logic        clk_i,
  input  wire logic        rst_ni,
  // Firmware: load the table
  input  wire logic        commit_i,
  input  wire logic [31:0] commit_index_i,
  input  wire logic [63:0] commit_addr_i,
  input  wire logic        commit_read_i,
  input  wire logic        commit_write_i,
  input  wire logic        commit_valid_i,
  input  wire logic        commit_system_i,
  // PCI command register: system-memory slots are DMA, allowed only while bus mastering is on
  input  wire logic        bus_master_i,
  // Host: one access, held until ack_o
  input  wire logic        req_i,
  input  wire logic        we_i,
  input  wire logic [$clog2(Slots)+ChunkShift-1:0] offset_i,
  input  wire logic [31:0] wdata_i,
  input  wire logic [3:0]  be_i,
  output logic             ack_o,
  output logic [31:0]      rdata_o,
  // Memory master
  output logic             mem_req_o,
  output logic             mem_sys_o,   // the request is for host system memory, not backing memory
  output logic             mem_we_o,
  output logic [63:0]      mem_addr_o,
  output logic [3:0]       mem_be_o,
  output logic [31:0]      mem_wdata_o,
  input  wire logic        mem_ack_i,
  input  wire logic [31:0] mem_rdata_i
);

  localparam int unsigned SlotW = $clog2(Slots);
  localparam int unsigned PageShift = 12;
  localparam int unsigned SysPageW = SysAddrBits - PageShift;
  // One address field per slot serves both kinds: a backing address or a system page number.
  localparam int unsigned AddrW = BackingShift > SysPageW ? BackingShift : SysPageW;
  localparam logic [64:0] Backing = 65'(1) << BackingShift;
  localparam logic [64:0] Chunk   = 65'(1) << ChunkShift;

  // One table entry: the address field, the access granted (read, write; valid is folded into
  // both), system memory.
  typedef struct packed {
    logic [AddrW-1:0] addr;
    logic             rd;
    logic             wr;
    logic             sys;
  } entry_t;

  logic in_range;  // backing: the chunk lies wholly in backing memory; system: page-aligned, below 2^SysAddrBits
  assign in_range = commit_system_i
      ? commit_addr_i[PageShift-1:0] == '0 && commit_addr_i[63:SysAddrBits] == '0
      : {1'b0, commit_addr_i} + Chunk <= Backing;

  logic [AddrW-1:0] commit_field;
  assign commit_field = commit_system_i ? AddrW'(commit_addr_i[SysAddrBits-1:PageShift])
                                        : AddrW'(commit_addr_i[BackingShift-1:0]);

  logic commit_hit;
  assign commit_hit = commit_i && commit_index_i < 32'(Slots);

  entry_t commit_entry;
  always_comb begin
    commit_entry.addr = in_range ? commit_field : '0;
    commit_entry.rd   = in_range && commit_valid_i && commit_read_i;
    commit_entry.wr   = in_range && commit_valid_i && commit_write_i;
    commit_entry.sys  = in_range && commit_system_i;
  end

  logic [SlotW-1:0] slot;        // the slot the host access addresses
  logic [Slots-1:0] valid_q, valid_d;
  logic             lookup_en;   // read the table for the access on offer (the slot held by req_i)
  // The storage holds plain vectors (entry_t's bits): Yosys 0.23 infers no memory from an array
  // of structs, nor takes $bits of a type.
  localparam int unsigned EntryW = AddrW + 3;
  logic [EntryW-1:0] table_mem [Slots];
  entry_t           entry_q;     // the RAM's read register
  logic             entry_valid_q, entry_valid_d;
  entry_t           entry;       // the slot's entry, reset value where never committed

  assign slot = offset_i[SlotW+ChunkShift-1:ChunkShift];

  always_comb begin
    valid_d = valid_q;
    if (commit_hit) valid_d[commit_index_i[SlotW-1:0]] = 1'b1;
    entry_valid_d = lookup_en ? valid_q[slot] : entry_valid_q;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q       <= '0;
      entry_valid_q <= 1'b0;
    end else begin
      valid_q       <= valid_d;
      entry_valid_q <= entry_valid_d;
    end
  end

  // The table: no reset, one write port, a registered read.
  always_ff @(posedge clk_i) begin
    if (commit_hit) table_mem[commit_index_i[SlotW-1:0]] <= commit_entry;
    if (lookup_en) entry_q <= table_mem[slot];
  end

  assign entry = entry_valid_q ? entry_q : '0;

  typedef enum logic [2:0] {
    StIdle,    // waiting for a host access
    StLookup,  // the slot's entry is being read from the table
    StAddr,    // the address's bits above the chunk are being added
    StMem,     // the memory master holds the request
    StDone     // ack_o for one clock
  } state_e;

  state_e      state_q, state_d;
  logic [31:0] rdata_q, rdata_d;
  logic        granted;

  // The address: base (a backing address, or a system page number shifted up) plus the offset in
  // the chunk. StLookup adds the chunk's bits (lo_q, with its carry); StAddr carries into the rest.
  localparam int unsigned SumW = (BackingShift > SysAddrBits ? BackingShift : SysAddrBits) + 1;
  logic [SumW-1:0]          base;
  logic [ChunkShift:0]      lo_q;
  logic [SumW-1:ChunkShift] hi_q;
  logic [SumW-1:0]          addr_q;
  logic                     sys_q;
  assign base = entry.sys ? SumW'(entry.addr) << PageShift : SumW'(entry.addr[BackingShift-1:0]);

  // The entry is read while idle, so it is there in StLookup, and then kept for the access.
  assign lookup_en = state_q == StIdle;
  assign granted   = (we_i ? entry.wr : entry.rd) && (!entry.sys || bus_master_i);

  assign mem_req_o   = state_q == StMem;
  assign mem_sys_o   = sys_q;
  assign mem_we_o    = we_i;
  assign mem_addr_o  = 64'(addr_q);
  assign mem_be_o    = we_i ? be_i : 4'hf;
  assign mem_wdata_o = wdata_i;
  assign ack_o       = state_q == StDone;
  assign rdata_o     = rdata_q;

  always_comb begin
    state_d = state_q;
    rdata_d = rdata_q;
    unique case (state_q)
      StIdle: begin
        if (req_i) state_d = StLookup;
      end
      StLookup: begin
        if (granted) begin
          state_d = StAddr;
        end else begin
          rdata_d = 32'hffff_ffff;
          state_d = StDone;
        end
      end
      StAddr: state_d = StMem;
      StMem: begin
        if (mem_ack_i) begin
          rdata_d = we_i ? 32'h0 : mem_rdata_i;
          state_d = StDone;
        end
      end
      StDone: state_d = StIdle;
      default: state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      rdata_q <= '0;
    end else begin
      state_q <= state_d;
      rdata_q <= rdata_d;
    end
  end

  // The address pipeline holds data only (no reset): it is read in StMem, two clocks after it is
  // loaded.
  always_ff @(posedge clk_i) begin
    if (state_q == StLookup) begin
      lo_q  <= {1'b0, base[ChunkShift-1:0]} + {1'b0, offset_i[ChunkShift-1:0]};
      hi_q  <= base[SumW-1:ChunkShift];
      sys_q <= entry.sys;
    end
    if (state_q == StAddr) addr_q <= {hi_q + (SumW - ChunkShift)'(lo_q[ChunkShift]), lo_q[ChunkShift-1:0]};
  end

endmodule

`default_nettype wire
