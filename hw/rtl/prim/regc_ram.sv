`default_nettype none

// Storage of a register array marked `ram` (hw/regs/README.md), written as a RAM so that FPGA tools
// map it to block or distributed RAM: one write port with byte enables, two registered read ports
// (software's and hardware's), no reset on the storage. A valid bit per element stands in for the
// reset: an element never written reads ResetValue, and its first write stores the reset value in
// the bytes it does not strobe. Reads return the data of the element at the previous clock's address;
// a read of the element being written returns the value from before the write.
module regc_ram #(
  parameter int unsigned      Width      = 32,
  parameter int unsigned      Depth      = 32,
  parameter logic [Width-1:0] ResetValue = '0,
  localparam int unsigned     IdxW       = Depth > 1 ? $clog2(Depth) : 1,
  localparam int unsigned     Bytes      = Width / 8
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,
  input  wire logic             we_i,
  input  wire logic [IdxW-1:0]  waddr_i,
  input  wire logic [Width-1:0] wdata_i,
  input  wire logic [Bytes-1:0] wbe_i,
  input  wire logic [IdxW-1:0]  a_addr_i,
  output logic [Width-1:0]      a_rdata_o,
  input  wire logic [IdxW-1:0]  b_addr_i,
  output logic [Width-1:0]      b_rdata_o
);

  logic [Width-1:0] mem [Depth];
  logic [Depth-1:0] valid_q, valid_d;
  logic             a_valid_q, b_valid_q;
  logic [Width-1:0] a_q, b_q;
  logic [Width-1:0] wdata;  // the stored word: a first write fills the bytes it does not strobe
  logic [Bytes-1:0] wbe;

  always_comb begin
    wdata = wdata_i;
    wbe   = wbe_i;
    if (!valid_q[waddr_i]) begin
      for (int unsigned b = 0; b < Bytes; b++) begin
        if (!wbe_i[b]) wdata[8*b+:8] = ResetValue[8*b+:8];
      end
      wbe = '1;
    end
    valid_d = valid_q;
    if (we_i) valid_d[waddr_i] = 1'b1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q   <= '0;
      a_valid_q <= 1'b0;
      b_valid_q <= 1'b0;
    end else begin
      valid_q   <= valid_d;
      a_valid_q <= valid_q[a_addr_i];
      b_valid_q <= valid_q[b_addr_i];
    end
  end

  // The RAM itself: no reset, one write port, registered reads.
  always_ff @(posedge clk_i) begin
    for (int unsigned b = 0; b < Bytes; b++) begin
      if (we_i && wbe[b]) mem[waddr_i][8*b+:8] <= wdata[8*b+:8];
    end
    a_q <= mem[a_addr_i];
    b_q <= mem[b_addr_i];
  end

  assign a_rdata_o = a_valid_q ? a_q : ResetValue;
  assign b_rdata_o = b_valid_q ? b_q : ResetValue;

`ifndef SYNTHESIS
  initial begin : check_params
    assert (Width % 8 == 0 && Depth >= 1) else $fatal(1, "regc_ram: Width must be whole bytes, Depth at least 1");
  end
  // Addresses past the array never reach the RAM (the block decodes them away).
  regc_ram_waddr_in_range: assert property (@(posedge clk_i) disable iff (!rst_ni)
    we_i |-> 32'(waddr_i) < Depth);
`endif

endmodule

`default_nettype wire
