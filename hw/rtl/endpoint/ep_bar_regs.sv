`default_nettype none

// The six BAR registers of the type-0 header (external in pci_header; BarRegisters in the model).
// Each keeps the address bits its BAR's size lets the host set (wmask_i) and reads back its fixed
// type bits (type_i), so writing all-ones reads back the size mask; a 64-bit BAR's high half is the
// next register with the upper mask; an unimplemented register has both 0 (reads 0, ignores
// writes). The masks are constants of the endpoint, inputs so that one module serves every one.
// Decoding bus addresses with the BAR values is the platform's job, not the endpoint's.
module ep_bar_regs (
  input  wire logic            clk_i,
  input  wire logic            rst_ni,
  input  wire logic [191:0]     wmask_i,  // register i in bits 32*i+31:32*i
  input  wire logic [191:0]     type_i,
  input  wire logic            re_i,
  input  wire logic            we_i,
  input  wire logic [2:0]      idx_i,
  input  wire logic [31:0]     wdata_i,
  input  wire logic [3:0]      be_i,
  output logic                 ack_o,
  output logic [31:0]          rdata_o
);

  logic [191:0]     bar_q;
  logic [31:0]      be_bits;
  logic             in_range;

  assign be_bits  = {{8{be_i[3]}}, {8{be_i[2]}}, {8{be_i[1]}}, {8{be_i[0]}}};
  assign in_range = idx_i < 3'd6;
  assign ack_o    = re_i || we_i;
  assign rdata_o  = in_range ? (bar_q[32*idx_i+:32] & wmask_i[32*idx_i+:32]) | type_i[32*idx_i+:32] : 32'h0;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bar_q <= '0;
    end else if (we_i && in_range) begin
      bar_q[32*idx_i+:32] <= ((bar_q[32*idx_i+:32] & ~be_bits) | (wdata_i & be_bits)) & wmask_i[32*idx_i+:32];
    end
  end

endmodule

`default_nettype wire
